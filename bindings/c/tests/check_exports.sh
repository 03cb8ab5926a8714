#!/usr/bin/env bash
# libwarden.so exports the C API (warden_*) and nothing else: no C++ symbol,
# nothing from the static runtime or its dependencies.
set -euo pipefail
library="$1"
symbols="$(nm -D --defined-only "$library")"
# Lines are "ADDRESS TYPE NAME"; the version node (type A) is no symbol.
bad="$(awk '$2 != "A" && $3 !~ /^warden_[a-z0-9_]+(@@?WARDEN_0)?$/' <<<"$symbols")"
if [[ -n "$bad" ]]; then
  echo "unexpected exports in $library:" >&2
  echo "$bad" >&2
  exit 1
fi
for name in warden_engine_load_file warden_engine_load_bundle warden_engine_decide \
            warden_engine_bundle_hash warden_engine_free warden_string_free \
            warden_status_name warden_version; do
  if ! grep -qE " T ${name}(@@WARDEN_0)?$" <<<"$symbols"; then
    echo "missing export: $name" >&2
    exit 1
  fi
done
count="$(awk '$2 != "A"' <<<"$symbols" | wc -l)"
echo "ok: $library exports $count warden_* symbols"
