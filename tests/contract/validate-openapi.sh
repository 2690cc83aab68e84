#!/bin/sh
# ctest's openapi_contract: validates build/openapi.json with node; skipped (77) only
# when node is not installed. The validator comes from `npm ci` (scripts/install-deps).
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed, so the OpenAPI document was not validated (scripts/install-deps installs it)"
  exit 77
fi
exec node "$(dirname "$0")/validate-openapi.mjs" "$1"
