#!/usr/bin/env bash
# `make lint-openapi`: Redocly's `recommended` rules and Spectral's `spectral:oas` on the
# committed openapi/openapi.json; any error or warning fails. The linters are the versions
# pinned in package-lock.json here, installed with `npm ci` into .cache/openapi-lint/
# (git-ignored) whenever the lock changed. Waived findings, each with its reason:
# .redocly.lint-ignore.yaml and .spectral.yaml.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/.cache/openapi-lint"
document="$root/openapi/openapi.json"

digest="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$cache/.lock-sha256" 2>/dev/null)" != "$digest" ] || [ ! -d "$cache/node_modules" ]; then
  echo "==> npm ci of the pinned linters into .cache/openapi-lint"
  mkdir -p "$cache"
  cp "$here/package.json" "$here/package-lock.json" "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  echo "$digest" > "$cache/.lock-sha256"
fi
bin="$cache/node_modules/.bin"
cd "$here"  # both read their configuration (and Redocly its ignore file) from here
echo "==> redocly lint (recommended) openapi/openapi.json"
"$bin/redocly" lint --config redocly.yaml --max-problems 1000 "$document" 2>&1 \
  | grep -v -e '[║╔╚]' -e 'Node.js 20 support is ending' || true
# Redocly exits 0 on warnings: count them from its summary instead.
summary="$("$bin/redocly" lint --config redocly.yaml --format summary "$document" 2>&1 || true)"
if grep -qE '^(error|warning) ' <<<"$summary"; then
  echo "FAIL: Redocly reports problems (above)" >&2
  exit 1
fi
echo "==> spectral lint (spectral:oas) openapi/openapi.json"
"$bin/spectral" lint --ruleset .spectral.yaml --fail-severity warn "$document"
echo "openapi lint: 0 errors, 0 warnings (Redocly recommended, Spectral spectral:oas)"
