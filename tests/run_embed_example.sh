#!/usr/bin/env bash
# Runs docs/examples/embed.cc the way docs/embedding.md shows: compile the
# documents example to a bundle, decide docs/examples/requests.jsonl, and
# compare with docs/examples/embed.expected.
set -euo pipefail
warden="$1" embed="$2" root="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && "$warden" compile -o "$work/documents.wdnb" examples/documents)
(cd "$root" && "$embed" "$work/documents.wdnb" < docs/examples/requests.jsonl) > "$work/out.txt"
diff -u "$root/docs/examples/embed.expected" "$work/out.txt"
