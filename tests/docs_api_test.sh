#!/usr/bin/env bash
# Runs the examples of docs/api.md against a real server and compares each
# response with the one the doc shows (ctest docs_api_examples).
#
#   tests/docs_api_test.sh WARDEN_BINARY SOURCE_DIR
#
# How the doc is read:
#   * a ```sh block whose first line is `# server` starts the server: it runs
#     in the background, from SOURCE_DIR, with `warden` on the PATH;
#   * a ```sh block whose first line is `# test` is a command: it runs from
#     SOURCE_DIR with bash, and the next fenced block is its expected output;
#   * the commands see WARDEN_SOCKET and WARDEN_ADMIN_SOCKET pointing to
#     sockets in a fresh temporary directory.
#
# How an output is compared (volatile values are never compared):
#   * `HTTP/1.1 ...` outputs (curl -i): the status line exactly; the same set
#     of header names; every header value exactly except Content-Length (any
#     number) and X-Decision-Id (32 hex digits, optionally -N); then the body;
#   * a JSON body: parsed and compared deeply, objects with the same keys,
#     arrays with the same length; the values of the keys `hash`, `bundle`
#     (a string), `id`, `generation`, `loaded_at`, `time`, `load_ms`,
#     `bytes` and `connections` only need the same JSON type;
#   * a Prometheus body (`# HELP` first): the same series (name and labels,
#     but any bundle hash and generation), in the same order; values are not
#     compared;
#   * anything else: exactly, after trimming trailing white space.
#
# DOCS_API_SHOW=1 prints every actual output (to update the doc).
#
# Then docs/examples/warden-serve.json must be accepted: the server starts
# with --config pointing to a copy of it (its `group` replaced by the current
# user's group, its paths by temporary ones through flags), creates its
# sockets with the configured modes, and stops cleanly on SIGTERM; and
# docs/operations.md must show the file verbatim (in a ```jsonc block).
#
# Needs curl and /usr/bin/python3; exits 77 (skipped) without them.
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 WARDEN_BINARY SOURCE_DIR" >&2
  exit 2
fi
warden="$(realpath "$1")"
root="$(realpath "$2")"
python=/usr/bin/python3
for tool in curl "$python"; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed" >&2
    exit 77
  fi
done

work="$(mktemp -d /tmp/warden-docs-api.XXXXXX)"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null
  fi
  [[ -n "$server_pid" ]] && wait "$server_pid" 2>/dev/null
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/bin"
ln -s "$warden" "$work/bin/warden"
export PATH="$work/bin:$PATH"
export WARDEN_SOCKET="$work/warden.sock" WARDEN_ADMIN_SOCKET="$work/admin.sock"
unset WARDEN_STDLIB

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do
    [[ -f "$log" ]] || continue
    echo "---- $(basename "$log")" >&2
    tail -n 40 "$log" >&2
  done
  exit 1
}

# Waits until a socket answers /health (30 s at most); fails if the server
# exits first.
wait_for_socket() {
  local socket="$1" pid="$2"
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      fail "the server exited (status $?) before listening on $socket"
    fi
    if [[ -S "$socket" ]] && curl -sS -o /dev/null --unix-socket "$socket" http://localhost/health 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  fail "the server did not answer on $socket within 30 s"
}

# ---------------------------------------------------------------- docs/api.md

doc="$root/docs/api.md"
[[ -f "$doc" ]] || fail "$doc is missing"

# Extract the server command and the (command, expected output) pairs.
"$python" - "$doc" "$work/cases" <<'EOF' || fail "cannot read the examples of docs/api.md"
import json, os, re, sys

doc, out = sys.argv[1], sys.argv[2]
lines = open(doc, encoding="utf-8").read().split("\n")
blocks = []  # (first line number, info string, text)
i = 0
while i < len(lines):
    m = re.match(r"^```(\S*)\s*$", lines[i])
    if m:
        start, info, body = i + 1, m.group(1), []
        i += 1
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            sys.exit(f"docs/api.md:{start}: unterminated code block")
        blocks.append((start, info, "\n".join(body)))
    i += 1

os.makedirs(out)
server, cases = None, []
for k, (line, info, text) in enumerate(blocks):
    first = text.split("\n", 1)[0].strip()
    if info != "sh" or first not in ("# server", "# test"):
        continue
    command = text.split("\n", 1)[1] if "\n" in text else ""
    if first == "# server":
        if server is not None:
            sys.exit(f"docs/api.md:{line}: a second `# server` block")
        server = command
        continue
    if k + 1 >= len(blocks):
        sys.exit(f"docs/api.md:{line}: a `# test` block without an expected output after it")
    cases.append({"line": line, "command": command, "expected": blocks[k + 1][2],
                  "expected_line": blocks[k + 1][0]})
if server is None:
    sys.exit("docs/api.md: no `# server` block")
if not cases:
    sys.exit("docs/api.md: no `# test` blocks")
open(os.path.join(out, "server.sh"), "w").write("exec " + server.lstrip() + "\n")
json.dump(cases, open(os.path.join(out, "cases.json"), "w"))
print(f"docs/api.md: {len(cases)} examples")
EOF

mkdir -p "$(dirname "$WARDEN_SOCKET")"
(cd "$root" && exec bash "$work/cases/server.sh") >"$work/server.log" 2>&1 &
server_pid=$!
wait_for_socket "$WARDEN_SOCKET" "$server_pid"
wait_for_socket "$WARDEN_ADMIN_SOCKET" "$server_pid"

"$python" - "$work/cases/cases.json" "$root" <<'EOF' || fail "docs/api.md: the responses above differ from the doc"
import json, os, re, subprocess, sys

cases = json.load(open(sys.argv[1]))
root = sys.argv[2]
VOLATILE = {"hash", "bundle", "id", "generation", "loaded_at", "time", "load_ms", "bytes",
            "connections"}
DECISION_ID = re.compile(r"^[0-9a-f]{32}(-[0-9]+)?$")


def kind(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def literal(value):
    """Tells 800 from 800.0: the doc must show numbers as the server writes them."""
    return (type(value).__name__, value)


def compare_json(expected, actual, path, problems):
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            missing = sorted(set(actual) - set(expected))
            extra = sorted(set(expected) - set(actual))
            problems.append(f"{path or '$'}: keys differ (the response also has {missing}, "
                            f"the doc also has {extra})")
        for key in expected:
            if key not in actual:
                continue
            sub = f"{path}.{key}" if path else key
            if key in VOLATILE and not isinstance(expected[key], (dict, list)):
                if kind(expected[key]) != kind(actual[key]):
                    problems.append(f"{sub}: the doc has a {kind(expected[key])}, "
                                    f"the response a {kind(actual[key])}")
                continue
            compare_json(expected[key], actual[key], sub, problems)
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            problems.append(f"{path or '$'}: the doc has {len(expected)} items, "
                            f"the response {len(actual)}")
        for n, (e, a) in enumerate(zip(expected, actual)):
            compare_json(e, a, f"{path}[{n}]", problems)
    elif kind(expected) != kind(actual) or literal(expected) != literal(actual):
        problems.append(f"{path or '$'}: the doc has {json.dumps(expected, ensure_ascii=False)}, "
                        f"the response {json.dumps(actual, ensure_ascii=False)}")


def series(text):
    """The lines without their values; bundle hashes and generations in labels normalised."""
    out = []
    for line in text.strip().split("\n"):
        if not line.startswith("#"):
            line = line.rsplit(" ", 1)[0]
            line = re.sub(r'hash="[0-9a-f]{64}"', 'hash="SHA256"', line)
            line = re.sub(r'generation="[0-9]+"', 'generation="N"', line)
        out.append(line)
    return out


def compare_body(expected, actual, problems):
    expected, actual = expected.strip(), actual.strip()
    if expected.startswith("# HELP"):
        e, a = series(expected), series(actual)
        if e != a:
            for n in range(max(len(e), len(a))):
                el = e[n] if n < len(e) else "(nothing)"
                al = a[n] if n < len(a) else "(nothing)"
                if el != al:
                    problems.append(f"metrics line {n + 1}: the doc has {el!r}, "
                                    f"the response {al!r}")
                    break
        return
    if expected[:1] in "{[":
        try:
            e = json.loads(expected)
        except ValueError as error:
            problems.append(f"the doc's JSON does not parse: {error}")
            return
        try:
            a = json.loads(actual)
        except ValueError:
            problems.append(f"the response is not JSON: {actual[:200]!r}")
            return
        compare_json(e, a, "", problems)
        return
    if "\n".join(l.rstrip() for l in expected.split("\n")) != \
       "\n".join(l.rstrip() for l in actual.split("\n")):
        problems.append("the output differs")


def split_http(text):
    text = text.replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    head_lines = head.split("\n")
    headers = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = (name.strip(), value.strip())
    return head_lines[0].strip(), headers, body


def compare(expected, actual):
    problems = []
    if expected.startswith("HTTP/"):
        if not actual.startswith("HTTP/"):
            return ["the doc shows an HTTP response (curl -i), the command printed no status line"]
        e_status, e_headers, e_body = split_http(expected)
        a_status, a_headers, a_body = split_http(actual)
        if e_status != a_status:
            problems.append(f"status: the doc has {e_status!r}, the response {a_status!r}")
        if set(e_headers) != set(a_headers):
            problems.append(f"headers: the doc has {sorted(n for n, _ in e_headers.values())}, "
                            f"the response {sorted(n for n, _ in a_headers.values())}")
        for key, (name, value) in e_headers.items():
            if key not in a_headers:
                continue
            got = a_headers[key][1]
            if key == "content-length":
                ok = got.isdigit()
            elif key == "x-decision-id":
                ok = bool(DECISION_ID.match(got))
            else:
                ok = got == value
            if not ok:
                problems.append(f"header {name}: the doc has {value!r}, the response {got!r}")
        compare_body(e_body, a_body, problems)
    else:
        compare_body(expected, actual, problems)
    return problems


failures = 0
for case in cases:
    result = subprocess.run(["bash", "-c", "set -o pipefail\n" + case["command"]], cwd=root,
                            capture_output=True, text=True, timeout=60)
    problems = []
    if result.returncode != 0:
        problems.append(f"the command exited with status {result.returncode}: "
                        f"{result.stderr.strip()}")
    else:
        problems = compare(case["expected"], result.stdout)
    first = case["command"].strip().split("\n")[0]
    if problems:
        failures += 1
        print(f"FAIL docs/api.md:{case['line']}: {first}", file=sys.stderr)
        for p in problems:
            print(f"    {p}", file=sys.stderr)
        print(f"    expected (docs/api.md:{case['expected_line']}):", file=sys.stderr)
        for line in case["expected"].split("\n"):
            print(f"      {line}", file=sys.stderr)
        print("    actual:", file=sys.stderr)
        for line in result.stdout.replace("\r\n", "\n").rstrip("\n").split("\n"):
            print(f"      {line}", file=sys.stderr)
    else:
        print(f"ok   docs/api.md:{case['line']}: {first}")
    if os.environ.get("DOCS_API_SHOW"):  # to update the doc: print every actual output
        print(result.stdout.replace("\r\n", "\n"))
if failures:
    print(f"{failures} of {len(cases)} examples of docs/api.md differ", file=sys.stderr)
    sys.exit(1)
print(f"all {len(cases)} examples of docs/api.md match")
EOF

stop_server

# ---------------------------------------------------------------- the example config

config="$root/docs/examples/warden-serve.json"
[[ -f "$config" ]] || fail "$config is missing"
group="$(id -gn)"
sed -E "s/\"group\": *\"[^\"]*\"/\"group\": \"$group\"/" "$config" >"$work/warden-serve.json"
(cd "$root" && exec warden serve --config "$work/warden-serve.json" \
  --socket "$work/config.sock" --admin-socket "$work/config-admin.sock" \
  --policies examples/payments --data examples/payments/data.json \
  --stdlib stdlib-policies --audit-log "$work/audit.log") >"$work/config-server.log" 2>&1 &
server_pid=$!
# The config may allow only some peers: wait for the sockets, not for /health.
for _ in $(seq 1 300); do
  [[ -S "$work/config.sock" && -S "$work/config-admin.sock" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid"
    fail "docs/examples/warden-serve.json is not accepted (exit status $?)"
  fi
  sleep 0.1
done
[[ -S "$work/config-admin.sock" ]] || fail "the server with docs/examples/warden-serve.json did not start within 30 s"
# The modes the example configures.
want_modes="$("$python" - "$config" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
# Drop // comments outside strings (the server allows them; json does not).
text = re.sub(r'("(?:[^"\\]|\\.)*")|//[^\n]*', lambda m: m.group(1) or "", text)
config = json.loads(text)
print(config.get("socket", {}).get("mode", "0660").lstrip("0") or "0",
      config.get("admin_socket", {}).get("mode", "0600").lstrip("0") or "0")
EOF
)" || fail "docs/examples/warden-serve.json: cannot read the socket modes"
got_modes="$(stat -c %a "$work/config.sock") $(stat -c %a "$work/config-admin.sock")"
[[ "$got_modes" == "$want_modes" ]] ||
  fail "docs/examples/warden-serve.json: the sockets have modes $got_modes, the config says $want_modes"
kill -TERM "$server_pid"
wait "$server_pid"
status=$?
server_pid=""
[[ $status -eq 0 ]] || fail "the server with docs/examples/warden-serve.json exited with status $status on SIGTERM"
grep -q '"msg":"stopped"' "$work/config-server.log" ||
  fail "the server with docs/examples/warden-serve.json did not log \"stopped\""
echo "docs/examples/warden-serve.json: accepted (sockets $got_modes), stopped cleanly"

# docs/operations.md shows the example verbatim.
"$python" - "$root/docs/operations.md" "$config" <<'EOF' ||
import sys
doc, config = (open(path, encoding="utf-8").read() for path in sys.argv[1:3])
sys.exit(0 if "```jsonc\n" + config + "```\n" in doc else 1)
EOF
  fail "docs/operations.md does not show docs/examples/warden-serve.json verbatim in a jsonc block"
echo "docs/operations.md: shows docs/examples/warden-serve.json verbatim"
echo "PASS"
