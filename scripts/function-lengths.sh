#!/usr/bin/env bash
# The longest C++ function definitions of the tree, in lines (first to last
# line of the definition, as universal-ctags reports them), longest first.
#   scripts/function-lengths.sh [COUNT] [FOLDER...]
# Defaults: 10 functions; compiler runtime cli bindings bench. Installs
# universal-ctags when it is missing (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-10}"
shift || true
folders=("$@")
[ ${#folders[@]} -eq 0 ] && folders=(compiler runtime cli bindings bench)
if ! command -v ctags >/dev/null || ! ctags --version | grep -q Universal; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -q universal-ctags >/dev/null
fi
find "${folders[@]}" -name '*.cc' -o -name '*.h' | sort |
  xargs ctags -o - --language-force=C++ --kinds-C++=f --fields=+ne |
  awk -F'\t' '{
    line = ""; end = "";
    for (i = 4; i <= NF; i++) {
      if ($i ~ /^line:/) line = substr($i, 6);
      if ($i ~ /^end:/) end = substr($i, 5);
    }
    if (line != "" && end != "") printf "%d\t%s:%s\t%s\n", end - line + 1, $2, line, $1;
  }' |
  sort -t$'\t' -k1,1nr | head -n "$count"
