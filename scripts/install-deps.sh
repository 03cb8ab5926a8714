#!/usr/bin/env bash
# Installs the Debian packages Warden needs to build and test, when any are missing.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format
  default-jre-headless antlr4 libantlr4-runtime-dev
  libabsl-dev libre2-dev nlohmann-json3-dev libcli11-dev doctest-dev libbenchmark-dev
  libssl-dev libsqlite3-dev libsimdjson-dev
  libboost-dev pybind11-dev python3-dev curl libmaxminddb-dev openssl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
