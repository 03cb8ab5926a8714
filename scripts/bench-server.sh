#!/usr/bin/env bash
# The decision server against the floor of the socket itself: compiles
# examples/payments to a bundle, starts bench/echo_server and `warden serve`
# on temporary Unix sockets, and runs the comparisons with bench/loadgen:
#
#   (a) 1 client, sequential: p50 round trip of a decision vs an echo of the
#       same bytes (target: decide <= 1.5x echo);
#   (b) 16 keep-alive clients, unbatched: decisions/s vs echo messages/s
#       (target: >= 50%);
#   (c) 16 clients, batches of 32: decisions/s (target: >= 300,000);
#   (d) p50/p99 of decisions in an open loop at half of (b)'s rate (and of the
#       echo server at the same rate, for reference).
#
# It builds nothing:
#   cmake --build build/release --target warden loadgen echo_server
#   scripts/bench-server.sh [BUILD_DIR]          # default build/release
#
# Environment: DURATION (seconds per run, default 8), WARMUP (seconds not
# counted, default 1), REPEAT (rounds of all the runs, default 1; the table
# shows the median), CLIENTS (16), BATCH (32), SERVER_THREADS (the server's
# and the echo server's threads; default one per core), LOADGEN_THREADS
# (empty: a thread with a blocking socket per client; T: the clients
# multiplexed over T epoll threads), D_RATE (the rate of (d); default half
# of the round's (b)), RESULTS (a file for the raw JSON lines).
# Exit status: 0 when every run completed without errors or wrong decisions
# (whether the targets are met is only reported), 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-build/release}"
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
WARDEN="${WARDEN:-$BUILD/warden}"
LOADGEN="${LOADGEN:-$BUILD/bench/loadgen}"
ECHO_SERVER="${ECHO_SERVER:-$BUILD/bench/echo_server}"
DURATION="${DURATION:-8}"
WARMUP="${WARMUP:-1}"
REPEAT="${REPEAT:-1}"
CLIENTS="${CLIENTS:-16}"
BATCH="${BATCH:-32}"
SERVER_THREADS="${SERVER_THREADS:-}"
LOADGEN_THREADS="${LOADGEN_THREADS:-}"

for tool in "$WARDEN" "$LOADGEN" "$ECHO_SERVER"; do
  if [[ ! -x "$tool" ]]; then
    echo "bench-server: $tool is missing; build it first:" >&2
    echo "  cmake --build ${BUILD#"$PWD"/} --target warden loadgen echo_server" >&2
    exit 2
  fi
done
if ! "$WARDEN" serve --help >/dev/null 2>&1; then
  echo "bench-server: $WARDEN has no serve command" >&2
  exit 2
fi

TMP="$(mktemp -d /tmp/warden-bench.XXXXXX)"
SERVE_PID=""
ECHO_PID=""
stop_servers() {
  local rc=0
  if [[ -n "$SERVE_PID" ]]; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" || rc=$?
    if [[ $rc -ne 0 ]]; then
      echo "bench-server: warden serve exited $rc after SIGTERM; its log:" >&2
      tail -n 20 "$TMP/serve.log" >&2
    fi
    SERVE_PID=""
  fi
  if [[ -n "$ECHO_PID" ]]; then
    kill -TERM "$ECHO_PID" 2>/dev/null || true
    wait "$ECHO_PID" 2>/dev/null || true
    ECHO_PID=""
  fi
}
cleanup() {
  stop_servers
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The payments example needs a value for each of its `data` declarations.
cat >"$TMP/data.json" <<'EOF'
{"sanctioned_countries": ["KP"], "blocked_networks": ["203.0.113.0/24"]}
EOF
"$WARDEN" compile "$ROOT/examples/payments" -o "$TMP/payments.bundle" >/dev/null

thread_flags=()
[[ -n "$SERVER_THREADS" ]] && thread_flags=(--threads "$SERVER_THREADS")
"$ECHO_SERVER" "$TMP/echo.sock" "${thread_flags[@]}" 2>"$TMP/echo.log" &
ECHO_PID=$!
"$WARDEN" serve --socket "$TMP/warden.sock" --policies "$TMP/payments.bundle" \
  --data "$TMP/data.json" --no-watch "${thread_flags[@]}" 2>"$TMP/serve.log" &
SERVE_PID=$!

ready=""
for _ in $(seq 1 100); do
  if [[ -S "$TMP/echo.sock" ]] &&
    curl -fsS -m 2 --unix-socket "$TMP/warden.sock" http://warden/ready >/dev/null 2>&1; then
    ready=1
    break
  fi
  if ! kill -0 "$SERVE_PID" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "bench-server: the servers did not become ready; warden serve's log:" >&2
  cat "$TMP/serve.log" >&2
  exit 1
fi

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS="${RESULTS:-$TMP/results.jsonl}"
: >"$RESULTS"
loadgen_flags=(--duration "$DURATION" --warmup "$WARMUP" --quiet)
[[ -n "$LOADGEN_THREADS" ]] && loadgen_flags+=(--threads "$LOADGEN_THREADS")

# run LABEL ARGS...: one loadgen run, its JSON line appended to $RESULTS.
run() {
  local label="$1"
  shift
  local line
  line="$("$LOADGEN" "${loadgen_flags[@]}" --label "$label" "$@")" || {
    echo "bench-server: loadgen failed for $label" >&2
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
      echo "bench-server: warden serve is gone; the end of its log:" >&2
      tail -n 20 "$TMP/serve.log" >&2
    fi
    exit 1
  }
  echo "$line" >>"$RESULTS"
  LAST="$line"
  python3 - "$line" <<'EOF' >&2
import json, sys
r = json.loads(sys.argv[1])
l = r["latency_us"]
print(f"  {r['label']:<16} {r['requests_per_s']:>10.0f} req/s {r['decisions_per_s']:>10.0f} dec/s"
      f"  p50 {l['p50']:>7.1f}  p99 {l['p99']:>8.1f}  max {l['max']:>8.1f} us"
      f"  errors {r['errors']}  wrong {r['wrong']}  loadgen cpu {r['loadgen_cpu_s']:.1f}s")
EOF
}

http=(--socket "$TMP/warden.sock" --target http --expect permit)
echo=(--socket "$TMP/echo.sock" --target echo)
for round in $(seq 1 "$REPEAT"); do
  echo "bench-server: round $round of $REPEAT (${DURATION}s per run, ${WARMUP}s warm-up)" >&2
  run a_echo "${echo[@]}" --clients 1
  run a_decide "${http[@]}" --clients 1
  run b_echo "${echo[@]}" --clients "$CLIENTS"
  run b_decide "${http[@]}" --clients "$CLIENTS"
  half="${D_RATE:-$(python3 -c 'import json,sys; print(max(1, int(json.loads(sys.argv[1])["requests_per_s"] / 2)))' "$LAST")}"
  run c_batch "${http[@]}" --clients "$CLIENTS" --batch "$BATCH"
  run d_decide_half "${http[@]}" --clients "$CLIENTS" --rate "$half"
  run d_echo_same "${echo[@]}" --clients "$CLIENTS" --rate "$half"
done

stop_servers
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RESULTS" "$CLIENTS" "$BATCH" "$LOAD_BEFORE" "$LOAD_AFTER" "$(nproc)" <<'EOF'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs.setdefault(r["label"], []).append(r)
clients, batch = sys.argv[2], sys.argv[3]
med = lambda label, f: statistics.median(f(r) for r in runs[label])
every = lambda label, f: " / ".join(f"{f(r):.0f}" if f(r) >= 100 else f"{f(r):.1f}" for r in runs[label])
p50 = lambda r: r["latency_us"]["p50"]
p99 = lambda r: r["latency_us"]["p99"]
rps = lambda r: r["requests_per_s"]
dps = lambda r: r["decisions_per_s"]
n = len(runs["a_echo"])
print(f"\nWarden decision server vs bare echo server, Unix socket, examples/payments "
      f"(median of {n} round{'s' if n > 1 else ''}; every round in brackets)")
print(f"{sys.argv[6]} cores; load average {sys.argv[4]} before, {sys.argv[5]} after")
rows = []
# The ratios pair the runs of a round (run back to back, so they saw much the
# same machine) and take the median of the rounds' ratios.
def ratio(num_label, num_f, den_label, den_f):
    rs = [num_f(a) / den_f(b) if den_f(b) else 0.0 for a, b in zip(runs[num_label], runs[den_label])]
    return statistics.median(rs), " / ".join(f"{r:.2f}" for r in rs)
a_ratio, a_rounds = ratio("a_decide", p50, "a_echo", p50)
rows.append(("(a) 1 client p50 round trip", f"decide {med('a_decide', p50):.1f} us [{every('a_decide', p50)}]",
             f"echo {med('a_echo', p50):.1f} us [{every('a_echo', p50)}]",
             f"{a_ratio:.2f}x echo [{a_rounds}]", "<= 1.5x", a_ratio <= 1.5))
b_ratio, b_rounds = ratio("b_decide", dps, "b_echo", rps)
rows.append((f"(b) {clients} clients unbatched", f"decide {med('b_decide', dps):.0f}/s [{every('b_decide', dps)}]",
             f"echo {med('b_echo', rps):.0f}/s [{every('b_echo', rps)}]",
             f"{100 * b_ratio:.0f}% of echo [{b_rounds}]", ">= 50%", b_ratio >= 0.5))
c = med("c_batch", dps)
rows.append((f"(c) {clients} clients, batch {batch}", f"decide {c:.0f} decisions/s [{every('c_batch', dps)}]",
             f"{med('c_batch', rps):.0f} batches/s", f"{c:.0f}/s", ">= 300000/s", c >= 300000))
rate = med("d_decide_half", lambda r: r["rate"])
s50 = lambda r: r["service_us"]["p50"]
s99 = lambda r: r["service_us"]["p99"]
rows.append((f"(d) open loop at {rate:.0f}/s", f"decide p50 {med('d_decide_half', p50):.1f} p99 {med('d_decide_half', p99):.1f} us "
             f"[p50 {every('d_decide_half', p50)}; p99 {every('d_decide_half', p99)}; achieved {every('d_decide_half', rps)}/s; "
             f"from the actual send: p50 {med('d_decide_half', s50):.1f} p99 {med('d_decide_half', s99):.1f}]",
             f"echo p50 {med('d_echo_same', p50):.1f} p99 {med('d_echo_same', p99):.1f} us "
             f"[p99 {every('d_echo_same', p99)}]",
             "", "", None))
for name, a, b, value, target, ok in rows:
    verdict = "" if ok is None else ("met" if ok else "NOT met")
    print(f"{name:<30} | {a:<52} | {b:<40} | {value:<22} | {target:<12} | {verdict}")
bad = [(l, r["errors"], r["wrong"]) for l, rs in runs.items() for r in rs if r["errors"] or r["wrong"]]
for label, errors, wrong in bad:
    print(f"run {label}: {errors} errors, {wrong} wrong decisions")
sys.exit(1 if bad else 0)
EOF
