#!/usr/bin/env bash
# Reloads under load: starts `warden serve` on a copy of examples/payments
# with an admin socket, and runs two bench/loadgen processes for DURATION
# seconds: one sends a request the policies permit (and POSTs /v1/reload on
# the admin socket RELOADS times, spread over the run), the other batches of
# a request they deny. Fails (exit 1) on any failed or malformed request,
# wrong decision or failed reload, or when the server does not stop cleanly
# on SIGTERM. Exit 77 when warden has no serve command (ctest: skipped).
#
#   scripts/reload-under-load.sh [BUILD_DIR]      # default build/release
#   RELOADS=100 DURATION=5 scripts/reload-under-load.sh build/release
#
# Environment: RELOADS (default 1000), DURATION (seconds, default 30),
# CLIENTS (connections of each loadgen, default 2), SERVER_THREADS (default:
# the server's), WARDEN and LOADGEN (the binaries; default BUILD_DIR/warden
# and BUILD_DIR/bench/loadgen).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-build/release}"
WARDEN="${WARDEN:-$BUILD/warden}"
LOADGEN="${LOADGEN:-$BUILD/bench/loadgen}"
RELOADS="${RELOADS:-1000}"
DURATION="${DURATION:-30}"
CLIENTS="${CLIENTS:-2}"
SERVER_THREADS="${SERVER_THREADS:-}"

for tool in "$WARDEN" "$LOADGEN"; do
  if [[ ! -x "$tool" ]]; then
    echo "reload-under-load: $tool is missing" >&2
    exit 2
  fi
done
if ! "$WARDEN" serve --help >/dev/null 2>&1; then
  echo "reload-under-load: skipped: $WARDEN has no serve command" >&2
  exit 77
fi

TMP="$(mktemp -d /tmp/warden-reload.XXXXXX)"
SERVE_PID=""
cleanup() {
  if [[ -n "$SERVE_PID" ]]; then
    kill -KILL "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$TMP/policies"
cp "$ROOT"/examples/payments/*.warden "$TMP/policies/"
cat >"$TMP/data.json" <<'EOF'
{"sanctioned_countries": ["KP"], "blocked_networks": ["203.0.113.0/24"]}
EOF
# "approver approves within their limit": permitted by approve_within_limit.
cat >"$TMP/permit.json" <<'EOF'
{"subject": {"id": "anna", "roles": ["payment_approver"], "department": "ops", "auth": {"auth_age": "10m"}},
 "action": "approve",
 "resource": {"type": "payment", "id": "p-5", "amount": 800.00, "department": "ops", "created_by": "carl",
              "status": "pending", "beneficiary_country": "FR", "beneficiary_iban": "FR7630006000011234567890189"},
 "context": {"ip": "198.51.100.20", "device": {"known": true}}}
EOF
# "the creator of a payment cannot approve it": denied by maker_checker.
cat >"$TMP/deny.json" <<'EOF'
{"subject": {"id": "anna", "roles": ["payment_approver"], "department": "ops", "auth": {"mfa": true, "auth_age": "10m"}},
 "action": "approve",
 "resource": {"type": "payment", "id": "p-9", "amount": 50.00, "department": "ops", "created_by": "anna",
              "status": "pending", "beneficiary_country": "FR", "beneficiary_iban": "FR7630006000011234567890189"},
 "context": {"ip": "198.51.100.20", "device": {"known": true}}}
EOF

thread_flags=()
[[ -n "$SERVER_THREADS" ]] && thread_flags=(--threads "$SERVER_THREADS")
"$WARDEN" serve --socket "$TMP/warden.sock" --admin-socket "$TMP/admin.sock" \
  --policies "$TMP/policies" --data "$TMP/data.json" "${thread_flags[@]}" 2>"$TMP/serve.log" &
SERVE_PID=$!
ready=""
for _ in $(seq 1 200); do
  if curl -fsS -m 2 --unix-socket "$TMP/warden.sock" http://warden/ready >/dev/null 2>&1; then
    ready=1
    break
  fi
  kill -0 "$SERVE_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "reload-under-load: warden serve did not become ready; its log:" >&2
  cat "$TMP/serve.log" >&2
  exit 1
fi

echo "reload-under-load: $RELOADS reloads in ${DURATION}s under load" >&2
status=0
"$LOADGEN" --socket "$TMP/warden.sock" --clients "$CLIENTS" --duration "$DURATION" \
  --request-file "$TMP/permit.json" --expect permit --timeout 10 \
  --reload-socket "$TMP/admin.sock" --reloads "$RELOADS" --label permit+reloads --strict \
  >"$TMP/permit.out" &
permit_pid=$!
"$LOADGEN" --socket "$TMP/warden.sock" --clients "$CLIENTS" --duration "$DURATION" \
  --request-file "$TMP/deny.json" --expect deny --batch 8 --timeout 10 --label deny-batches --strict \
  >"$TMP/deny.out" &
deny_pid=$!
wait "$permit_pid" || status=1
wait "$deny_pid" || status=1
cat "$TMP/permit.out" "$TMP/deny.out"

# The server must still answer, then drain and exit 0 on SIGTERM.
if ! curl -fsS -m 5 --unix-socket "$TMP/warden.sock" http://warden/ready >/dev/null; then
  echo "reload-under-load: the server no longer answers /ready" >&2
  status=1
fi
kill -TERM "$SERVE_PID"
serve_status=0
wait "$SERVE_PID" || serve_status=$?
SERVE_PID=""
if [[ $serve_status -ne 0 ]]; then
  echo "reload-under-load: warden serve exited $serve_status after SIGTERM" >&2
  status=1
fi
if [[ $status -ne 0 ]]; then
  echo "reload-under-load: FAILED; the last lines of the server's log:" >&2
  tail -n 30 "$TMP/serve.log" >&2
else
  echo "reload-under-load: passed" >&2
fi
exit "$status"
