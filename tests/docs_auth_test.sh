#!/usr/bin/env bash
# Runs the `sh` example under "Integrating a service" in docs/authentication.md
# with the built warden on PATH, and expects a permit for the minted token.
# Usage: docs_auth_test.sh WARDEN_BINARY SOURCE_DIR
set -euo pipefail
warden_bin=$1
source_dir=$2
command -v openssl >/dev/null || { echo "openssl not found: skipped"; exit 77; }
script=$(awk '/^## Integrating a service/{on=1} on && /^```sh$/{inside=1; next} inside && /^```$/{exit} inside{print}' \
  "$source_dir/docs/authentication.md")
[ -n "$script" ] || { echo "no sh example found in docs/authentication.md"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
ln -s "$warden_bin" "$tmp/bin/warden"
cd "$source_dir"
out=$(PATH="$tmp/bin:$PATH" bash -euo pipefail -c "$script")
echo "$out"
echo "$out" | grep -q '"decision":"permit"' || { echo "expected a permit"; exit 1; }
echo "$out" | grep -q '"kind":"token"' || { echo "expected the token's identity"; exit 1; }
