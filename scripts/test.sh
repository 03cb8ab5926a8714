#!/usr/bin/env bash
# Installs what is missing, builds Warden (release, warnings as errors) and runs
# the whole test suite; then builds the asan+ubsan/libFuzzer tree and runs the
# unit tests and a short fuzzing pass under the sanitizers.
#   WARDEN_SKIP_ASAN=1   skip the sanitizer build (quicker local runs)
#   WARDEN_FUZZ_SECONDS  seconds per fuzz target in the short pass (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
jobs=$(nproc)

cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --test-dir build/release --output-on-failure -j "$jobs" -LE 'fuzz|slow'

if [ "${WARDEN_SKIP_ASAN:-0}" != 1 ]; then
  cmake --preset asan -DWARDEN_FUZZ_SECONDS="${WARDEN_FUZZ_SECONDS:-60}" >/dev/null
  cmake --build --preset asan -j "$jobs"
  ctest --test-dir build/asan --output-on-failure -j "$jobs" -LE 'fuzz-long|slow'
fi
