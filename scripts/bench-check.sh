#!/usr/bin/env bash
# Measures POST /v1/check with a cached token against POST /v1/decide with the
# same request already resolved (issue 5: a cached check within 1.3x of a
# decide round trip). One server (examples/ai_api, HS256 issuer, no GeoIP),
# one keep-alive client, the same loadgen for both.
# Usage: scripts/bench-check.sh BUILD_DIR   (env: DURATION, WARMUP, REPEAT)
set -euo pipefail
build=${1:-build/release}
duration=${DURATION:-5}
warmup=${WARMUP:-1}
repeat=${REPEAT:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
warden="$build/warden"
loadgen="$build/bench/loadgen"
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
export WARDEN_HS256_SECRET=bench-secret-0123456789abcdef0123456789abcdef
sed "s|STATE_DIR|$dir|" "$root/docs/examples/warden-auth.json" > "$dir/config.json"
"$warden" state init --state "$dir/state.db" >/dev/null
token=$(python3 - <<'PY'
import base64, hashlib, hmac, json, os, time
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
now = int(time.time())
h = b(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
p = b(json.dumps({"iss": "https://id.example", "aud": "ai", "sub": "uma", "iat": now,
                  "exp": now + 3000, "auth_time": now - 60, "amr": ["pwd", "otp"],
                  "roles": ["ai_user"], "jti": "bench"}).encode())
s = b(hmac.new(os.environ["WARDEN_HS256_SECRET"].encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())
print(f"{h}.{p}.{s}")
PY
)
resource='{"type":"model","id":"m1","tier":"small","provider":"x","contains_pii":false}'
printf '{"token":"%s","action":"list","resource":%s,"context":{"ip":"192.0.2.1","device":{"id":"d1"}}}' \
  "$token" "$resource" > "$dir/check.json"
printf '{"subject":{"id":"uma","roles":["ai_user"],"auth":{"mfa":true,"methods":["pwd","otp"],"acr":"","kind":"token","auth_age":"60000ms","token_age":"1000ms"}},"action":"list","resource":%s,"context":{"ip":"192.0.2.1","device":{"id":"d1","known":true},"time":"2026-11-28T10:00:00.000Z","network":{"anonymous":false,"hosting":false,"tor":false,"listed":false},"geo":{"impossible_travel":false,"travel_speed_kmh":0},"attempts":{"failed_subject":0,"failed_ip":0,"locked":false},"unusual_hour":false}}' \
  "$resource" > "$dir/decide.json"
"$warden" serve --config "$dir/config.json" --socket "$dir/s.sock" --no-watch 2>"$dir/server.log" &
pid=$!
for _ in $(seq 100); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
p50() { grep -o '"p50_us": *[0-9.]*' | grep -o '[0-9.]*$'; }
for round in $(seq "$repeat"); do
  for path in decide check; do
    out=$("$loadgen" --socket "$dir/s.sock" --path "/v1/$path" --request-file "$dir/$path.json" \
      --duration "$duration" --warmup "$warmup" --expect permit 2>&1 || true)
    echo "round $round /v1/$path: $(echo "$out" | tr '\n' ' ' | head -c 400)"
  done
done
