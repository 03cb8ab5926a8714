#!/usr/bin/env bash
# Durable audit mode loses no answered decision to kill -9 (issue 12, finding 3).
#
#   audit_crash_test.sh WARDEN LOADGEN SOURCE_DIR
#
# KILLS times (default 20): start `warden serve` with a durable audit log, load
# it with 16 keep-alive clients (bench/loadgen, which records the decision id of
# every 200 answer), and kill -9 the server once at least DECISIONS (default
# 10000) decisions more are in the log, at a random moment. Every answered id
# must be in the log. The log is reused across the kills (resumed each time,
# torn tails included), and at the end `warden audit verify` must find the chain
# intact. AUDIT_MODE=async runs the same against the asynchronous mode, which
# is expected to lose answers (the test then fails: that is how the test was
# shown to catch the loss).
set -euo pipefail
WARDEN="$1" LOADGEN="$2" ROOT="$3"
KILLS="${KILLS:-20}" DECISIONS="${DECISIONS:-10000}" AUDIT_MODE="${AUDIT_MODE:-durable}"
LINE_BYTES=1000  # an audit line of the payments request is ~970 bytes: more than enough lines

TMP="$(mktemp -d /tmp/warden-crash.XXXXXX)"
SERVE_PID="" LOAD_PID=""
cleanup() {
  [[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null || true
  [[ -n "$SERVE_PID" ]] && kill -9 "$SERVE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

"$WARDEN" compile "$ROOT/examples/payments" -o "$TMP/payments.bundle" >/dev/null
echo '{"sanctioned_countries": ["KP"], "blocked_networks": ["203.0.113.0/24"]}' >"$TMP/data.json"
cat >"$TMP/config.json" <<JSON
{"watch": false, "threads": 2,
 "audit": {"path": "$TMP/audit.log", "mode": "$AUDIT_MODE", "max_file_bytes": 33554432}}
JSON

log_bytes() { cat "$TMP"/audit.log* 2>/dev/null | wc -c; }

start_server() {
  rm -f "$TMP/warden.sock"
  "$WARDEN" serve --config "$TMP/config.json" --socket "$TMP/warden.sock" \
    --policies "$TMP/payments.bundle" --data "$TMP/data.json" 2>>"$TMP/serve.log" &
  SERVE_PID=$!
  for _ in $(seq 200); do
    [[ -S "$TMP/warden.sock" ]] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "audit_crash_test: the server did not start; its log:" >&2
  tail -n 20 "$TMP/serve.log" >&2
  exit 1
}

failures=0 total_answered=0
for kill_number in $(seq "$KILLS"); do
  start_server
  before=$(log_bytes)
  "$LOADGEN" --socket "$TMP/warden.sock" --clients 16 --duration 120 --quiet --stop-when-down \
    --ids-file "$TMP/ids" >/dev/null 2>"$TMP/loadgen.log" &
  LOAD_PID=$!
  until (( $(log_bytes) - before >= (DECISIONS + 1000) * LINE_BYTES )); do
    if ! kill -0 "$LOAD_PID" 2>/dev/null; then
      echo "audit_crash_test: loadgen stopped early:" >&2
      cat "$TMP/loadgen.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  sleep "0.$((RANDOM % 200))"
  kill -9 "$SERVE_PID"
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=""
  wait "$LOAD_PID" || true
  LOAD_PID=""
  answered=$(wc -l <"$TMP/ids")
  grep -ho '"id":"[0-9a-f-]*"' "$TMP"/audit.log* | cut -d'"' -f4 | sort -u >"$TMP/logged"
  missing=$(sort -u "$TMP/ids" | comm -23 - "$TMP/logged" | wc -l)
  echo "kill $kill_number: $answered decisions answered, $missing missing from the log"
  total_answered=$((total_answered + answered))
  if (( answered < DECISIONS )); then
    echo "audit_crash_test: only $answered decisions were answered (want $DECISIONS)" >&2
    failures=$((failures + 1))
  fi
  (( missing == 0 )) || failures=$((failures + 1))
done

# Resume once more (cutting the last torn line) and stop cleanly: the chain of
# all the files must be intact.
start_server
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
SERVE_PID=""
"$WARDEN" audit verify "$TMP/audit.log" || failures=$((failures + 1))
echo "audit_crash_test: $KILLS kills, $total_answered decisions answered, $failures failures"
(( failures == 0 ))
