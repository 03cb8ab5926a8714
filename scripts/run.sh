#!/usr/bin/env bash
# Warden's main job for now: build, then check the examples and the standard
# library policies strictly and show the result.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target warden
./build/release/warden check --strict examples/ stdlib-policies/
