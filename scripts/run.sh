#!/usr/bin/env bash
# Warden's main job for now: build, check the examples and the standard library
# policies strictly, then run their test blocks and show the decisions.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target warden
./build/release/warden check --strict examples/ stdlib-policies/
./build/release/warden test examples/ stdlib-policies/
