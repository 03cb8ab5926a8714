#!/usr/bin/env bash
# Warden's main job: build, check the shipped policies, start the decision
# server with the example payments policies on a local Unix socket, send a few
# decisions (a permit, a deny with its reason, a step-up) and print the answers.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target warden
warden=./build/release/warden
$warden check --strict examples/ stdlib-policies/
$warden test examples/ stdlib-policies/ | tail -n 1

workdir=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT
socket="$workdir/warden.sock"
$warden serve --socket "$socket" --admin-socket "$workdir/admin.sock" \
  --policies examples/payments --data examples/payments/data.json --log-format text \
  2>"$workdir/server.log" &
server_pid=$!
for _ in $(seq 100); do
  curl -sf --unix-socket "$socket" http://localhost/ready >/dev/null 2>&1 && break
  sleep 0.1
done
echo "warden serve is listening on $socket"
for request in permit deny step_up; do
  echo
  echo "\$ curl --unix-socket $socket --data-binary @examples/payments/requests/$request.json http://localhost/v1/decide"
  curl -s --unix-socket "$socket" -H 'Content-Type: application/json' \
    --data-binary "@examples/payments/requests/$request.json" http://localhost/v1/decide |
    /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
line = d["decision"] + (" " + d["challenge"] if d["challenge"] else "")
for rule in d["rules"]:
    line += "  by %s (%s:%d)" % (rule["name"], rule["file"], rule["line"])
print(line)
for reason in d["reasons"]:
    print("  because:", reason)'
done
echo
echo "server log:"
cat "$workdir/server.log"
