#!/usr/bin/env bash
# Runs bindings/c/examples/decide.c the way docs/bindings.md shows: compile the
# documents example to a bundle, decide docs/examples/requests.jsonl, and
# compare with bindings/c/examples/decide.expected.
set -euo pipefail
warden="$1" decide="$2" root="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && "$warden" compile -o "$work/documents.wdnb" examples/documents)
(cd "$root" && "$decide" "$work/documents.wdnb" < docs/examples/requests.jsonl) > "$work/out.txt"
diff -u "$root/bindings/c/examples/decide.expected" "$work/out.txt"
