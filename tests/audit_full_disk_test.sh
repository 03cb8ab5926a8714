#!/usr/bin/env bash
# The audit log on a disk that fills up and empties again (issue 12, finding 3;
# docs/audit.md, "When the log cannot be written").
#
#   audit_full_disk_test.sh WARDEN SOURCE_DIR
#
# Mounts a 4 MiB tmpfs (so it needs root; exit 77, a skip, without), puts a
# durable audit log on it, and for each audit.on_failure:
#   deny:  with the disk full, decisions are answered 503 audit_unavailable,
#          /ready is 503, warden_audit_writable is 0, /v1/status says so, and the
#          server logs it; once space returns, decisions are served again;
#   serve: with the disk full, decisions are still answered (200), with the
#          same signals except /ready.
# After each run every answered decision id is in the log, the last line of a
# refused one says audit_unavailable, and the chain is intact.
set -euo pipefail
WARDEN="$1" ROOT="$2"
command -v curl >/dev/null || { echo "audit_full_disk_test: needs curl"; exit 77; }
[[ "$(id -u)" == 0 ]] || { echo "audit_full_disk_test: needs root to mount a tmpfs"; exit 77; }

TMP="$(mktemp -d /tmp/warden-disk.XXXXXX)"
DISK="$TMP/disk"
SERVE_PID=""
cleanup() {
  [[ -n "$SERVE_PID" ]] && kill -9 "$SERVE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  umount "$DISK" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir "$DISK"
mount -t tmpfs -o size=4m tmpfs "$DISK" || { echo "audit_full_disk_test: cannot mount"; exit 77; }

"$WARDEN" compile "$ROOT/examples/payments" -o "$TMP/payments.bundle" >/dev/null
echo '{"sanctioned_countries": ["KP"], "blocked_networks": ["203.0.113.0/24"]}' >"$TMP/data.json"
REQUEST='{"subject": {"id": "anna", "roles": ["payment_approver"], "department": "ops",
  "auth": {"mfa": false, "auth_age": "10m", "methods": ["pwd"]}},
  "action": "approve", "resource": {"type": "payment", "id": "p-5", "amount": 800.0,
  "department": "ops", "created_by": "carl", "status": "pending",
  "beneficiary_country": "FR", "beneficiary_iban": "FR76"},
  "context": {"ip": "198.51.100.20", "time": "2026-03-02T10:00:00Z"}}'
fail() { echo "audit_full_disk_test: $*" >&2; tail -n 20 "$TMP/serve.log" >&2; exit 1; }

# GET or POST on a socket; prints "STATUS DECISION_ID" and leaves the body in $TMP/body.
call() {
  local socket="$1" path="$2" data="${3:-}"
  local args=(-s -o "$TMP/body" -D "$TMP/headers" --unix-socket "$socket")
  [[ -n "$data" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  curl "${args[@]}" "http://warden$path" >/dev/null
  local status id
  status=$(head -n1 "$TMP/headers" | cut -d' ' -f2)
  id=$(grep -i '^x-decision-id:' "$TMP/headers" | tr -d '\r' | cut -d' ' -f2 || true)
  echo "$status ${id:--}"
}

# Sends N decisions, appending "STATUS ID" lines to $TMP/answers.
decide() {
  for _ in $(seq "$1"); do call "$TMP/w.sock" /v1/decide "$REQUEST" >>"$TMP/answers"; done
}

fill_disk() { dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null || true; sync; }

run() {
  local on_failure="$1"
  rm -f "$DISK"/* "$TMP/answers" "$TMP/serve.log"
  cat >"$TMP/config.json" <<JSON
{"watch": false, "audit": {"path": "$DISK/audit.log", "on_failure": "$on_failure"}}
JSON
  "$WARDEN" serve --config "$TMP/config.json" --socket "$TMP/w.sock" \
    --admin-socket "$TMP/admin.sock" --policies "$TMP/payments.bundle" \
    --data "$TMP/data.json" 2>"$TMP/serve.log" &
  SERVE_PID=$!
  for _ in $(seq 100); do [[ -S "$TMP/admin.sock" ]] && break; sleep 0.05; done

  decide 20
  fill_disk
  decide 30
  grep -q '"msg":"the audit log cannot be written' "$TMP/serve.log" || fail "no log line"
  call "$TMP/w.sock" /metrics >/dev/null
  grep -q '^warden_audit_writable 0$' "$TMP/body" || fail "warden_audit_writable is not 0"
  call "$TMP/admin.sock" /v1/status >/dev/null
  grep -q '"writable":false' "$TMP/body" || fail "/v1/status: $(cat "$TMP/body")"
  local ready
  ready=$(call "$TMP/w.sock" /ready | cut -d' ' -f1)
  if [[ "$on_failure" == deny ]]; then
    [[ "$ready" == 503 ]] || fail "/ready is $ready with the disk full (deny)"
    # The file's last page still has room for a few lines; after the first
    # refusal, every decision is refused.
    local full_phase
    full_phase=$(tail -n 30 "$TMP/answers" | cut -d' ' -f1 | uniq | tr '\n' ' ')
    [[ "$full_phase" == "503 " || "$full_phase" == "200 503 " ]] ||
      fail "with the disk full, the answers were: $full_phase"
    (( $(grep -c '^503 ' "$TMP/answers") >= 20 )) || fail "too few refusals"
    call "$TMP/w.sock" /v1/decide "$REQUEST" >/dev/null
    grep -q '"audit_unavailable"' "$TMP/body" || fail "refusal body: $(cat "$TMP/body")"
  else
    [[ "$ready" == 200 ]] || fail "/ready is $ready with the disk full (serve)"
    (( $(grep -c '^200 ' "$TMP/answers") == 50 )) || fail "serve mode refused decisions"
  fi

  rm -f "$DISK/filler"
  for _ in $(seq 100); do
    [[ "$(call "$TMP/w.sock" /ready | cut -d' ' -f1)" == 200 ]] && break
    sleep 0.05
  done
  decide 20
  (( $(tail -n 20 "$TMP/answers" | grep -c '^200 ') == 20 )) || fail "not served after space returned"
  grep -q '"msg":"the audit log is writable again' "$TMP/serve.log" || fail "no recovery log line"
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID" || fail "the server exited $?"
  SERVE_PID=""

  # Every answer is in the log; a refusal's last line is its audit_unavailable line.
  local missing=0 id status last
  while read -r status id; do
    [[ "$id" == - ]] && fail "an answer without a decision id: $status"
    last=$(grep "\"id\":\"$id\"" "$DISK/audit.log" | tail -n 1 || true)
    if [[ -z "$last" ]]; then
      missing=$((missing + 1))
    elif [[ "$status" == 503 && "$last" != *'"error":"audit_unavailable"'* ]]; then
      fail "refused decision $id is not logged as audit_unavailable: $last"
    fi
  done <"$TMP/answers"
  (( missing == 0 )) || fail "$missing answered decisions are missing from the log ($on_failure)"
  "$WARDEN" audit verify "$DISK/audit.log" >/dev/null || fail "the chain is broken"
  echo "on_failure $on_failure: $(cut -d' ' -f1 "$TMP/answers" | sort | uniq -c | tr -s ' ' | tr '\n' ';') all in the log"
}

run deny
run serve
