#!/usr/bin/env bash
# The cost of the durable audit log (docs/audit.md): in one sitting, two
# `warden serve` processes on examples/payments, one with audit.mode async and
# one with durable (both on the same disk, in a temporary folder under
# AUDIT_DIR, default /var/tmp), measured in alternating rounds with bench/loadgen:
#   16 keep-alive clients, unbatched: decisions/s (target: durable >= 50% of async);
#   1 client, sequential: p50 and p99 round trip of each mode.
#
# It builds nothing:
#   cmake --build build/release --target warden loadgen
#   scripts/bench-audit.sh [BUILD_DIR]          # default build/release
# Environment: DURATION (seconds per run, default 5), WARMUP (1), REPEAT (rounds,
# default 3; the table shows the median and every round), CLIENTS (16).
# Exit status 0 when every run completed without errors (whether the target is
# met is only reported), 1 otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-build/release}"
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
WARDEN="$BUILD/warden" LOADGEN="$BUILD/bench/loadgen"
DURATION="${DURATION:-5}" WARMUP="${WARMUP:-1}" REPEAT="${REPEAT:-3}" CLIENTS="${CLIENTS:-16}"
for tool in "$WARDEN" "$LOADGEN"; do
  [[ -x "$tool" ]] || { echo "bench-audit: build $tool first" >&2; exit 2; }
done

TMP="$(mktemp -d "${AUDIT_DIR:-/var/tmp}/warden-bench-audit.XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

"$WARDEN" compile "$ROOT/examples/payments" -o "$TMP/payments.bundle" >/dev/null
echo '{"sanctioned_countries": ["KP"], "blocked_networks": ["203.0.113.0/24"]}' >"$TMP/data.json"
for mode in async durable; do
  echo "{\"watch\": false, \"audit\": {\"path\": \"$TMP/$mode.log\", \"mode\": \"$mode\"}}" \
    >"$TMP/$mode.json"
  "$WARDEN" serve --config "$TMP/$mode.json" --socket "$TMP/$mode.sock" \
    --policies "$TMP/payments.bundle" --data "$TMP/data.json" 2>"$TMP/$mode.serve.log" &
  PIDS+=($!)
done
for mode in async durable; do
  for _ in $(seq 100); do [[ -S "$TMP/$mode.sock" ]] && break; sleep 0.05; done
done

: >"$TMP/results.jsonl"
for round in $(seq "$REPEAT"); do
  echo "bench-audit: round $round of $REPEAT" >&2
  for mode in async durable; do
    for clients in "$CLIENTS" 1; do
      "$LOADGEN" --socket "$TMP/$mode.sock" --clients "$clients" --duration "$DURATION" \
        --warmup "$WARMUP" --expect permit --strict --quiet --label "$mode/$clients" \
        >>"$TMP/results.jsonl" || { echo "bench-audit: loadgen failed ($mode, $clients)" >&2; exit 1; }
    done
  done
done

python3 - "$TMP/results.jsonl" "$CLIENTS" "$(nproc)" "$(df -h "$TMP" | tail -n1 | awk '{print $1}')" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs.setdefault(r["label"], []).append(r)
clients = sys.argv[2]
med = lambda label, f: statistics.median(f(r) for r in runs[label])
each = lambda label, f: " / ".join(f"{f(r):.0f}" if f(r) >= 100 else f"{f(r):.1f}" for r in runs[label])
dps = lambda r: r["decisions_per_s"]
p50 = lambda r: r["latency_us"]["p50"]
p99 = lambda r: r["latency_us"]["p99"]
print(f"\nAudit log modes, examples/payments over a Unix socket; {sys.argv[3]} cores; log on {sys.argv[4]}")
print(f"median of {len(runs[f'async/{clients}'])} alternating rounds [every round]")
a, d = med(f"async/{clients}", dps), med(f"durable/{clients}", dps)
ratios = [y["decisions_per_s"] / x["decisions_per_s"] for x, y in zip(runs[f"async/{clients}"], runs[f"durable/{clients}"])]
print(f"  {clients} clients: async {a:.0f}/s [{each(f'async/{clients}', dps)}], durable {d:.0f}/s "
      f"[{each(f'durable/{clients}', dps)}]: {100 * statistics.median(ratios):.0f}% of async "
      f"[{' / '.join(f'{100 * r:.0f}%' for r in ratios)}] (target >= 50%: "
      f"{'met' if statistics.median(ratios) >= 0.5 else 'NOT met'})")
for mode in ("async", "durable"):
    print(f"  1 client, {mode:>7}: p50 {med(f'{mode}/1', p50):.1f} us [{each(f'{mode}/1', p50)}], "
          f"p99 {med(f'{mode}/1', p99):.1f} us [{each(f'{mode}/1', p99)}]")
PY
