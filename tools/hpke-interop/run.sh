#!/usr/bin/env bash
# Cross-checks alliance::crypto::hpke against the npm @hpke/core implementation: seals in
# C++ and opens in Node, and the reverse, for all three AEADs. Run by hand; ctest never
# depends on npm.
#   tools/hpke-interop/run.sh            (after building alliance_crypto)
# Environment: ALLIANCE_BUILD_DIR (default build/), HPKE_INTEROP_DIR (npm work dir,
# default /tmp/alliance-hpke-interop).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${ALLIANCE_BUILD_DIR:-$root/build}"
work="${HPKE_INTEROP_DIR:-/tmp/alliance-hpke-interop}"
mkdir -p "$work"

lib="$build/libs/crypto/liballiance_crypto.a"
core="$build/libs/core/liballiance_core.a"
[ -f "$lib" ] && [ -f "$core" ] || {
  echo "build alliance_crypto first (ALLIANCE_BUILD_DIR=$build scripts/build --target alliance_crypto)" >&2
  exit 1
}
g++ -std=c++20 -O1 -Wall -Wextra -Wno-missing-field-initializers -Werror -I"$root/libs/crypto/include" -I"$root/libs/core/include" \
  "$here/hpke_tool.cpp" "$lib" "$core" -lcrypto -o "$work/hpke_tool"

cp "$here/package.json" "$here/interop.mjs" "$work/"
(cd "$work" && npm install --no-audit --no-fund --silent)
node "$work/interop.mjs" "$work/hpke_tool"
