#!/usr/bin/env bash
# Validates `warden check --format sarif` output against the SARIF 2.1.0 schema
# and Microsoft's SARIF rules, using the SARIF Multitool from the npm registry.
# Usage: scripts/validate-sarif.sh [WARDEN_BINARY]   (ctest label: slow)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
warden="${1:-$root/build/release/warden}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v npm >/dev/null || { echo "validate-sarif: npm is required" >&2; exit 2; }
(cd "$work" && npm install --silent --no-audit --no-fund @microsoft/sarif-multitool@5.7.0 >/dev/null)
tool="$work/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
for policy in "$root"/tests/golden/diagnostics/*.warden "$root"/examples/payments/payments.warden; do
  # check exits 1 when it finds problems; the SARIF is what matters here.
  (cd "$(dirname "$policy")" && "$warden" check --format sarif "$(basename "$policy")" \
     > "$work/$(basename "$policy").sarif") || true
done
# SARIF2005 asks for an informationUri; Warden has no public home page yet.
output=$(DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$tool" validate "$work"/*.sarif -o "$work/result.sarif" 2>&1)
echo "$output" | grep -v SARIF2005 || true
if echo "$output" | grep -E "(error|warning) SARIF" | grep -qv SARIF2005; then
  echo "validate-sarif: the SARIF output has problems" >&2
  exit 1
fi
echo "validate-sarif: all files valid"
