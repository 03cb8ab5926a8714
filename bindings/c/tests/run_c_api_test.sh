#!/usr/bin/env bash
# Compiles examples/payments to a bundle with the warden CLI, then runs the
# C API test on it.
set -euo pipefail
warden="$1" test_binary="$2" root="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && "$warden" compile -o "$work/payments.wdnb" examples/payments)
"$test_binary" "$work/payments.wdnb"
