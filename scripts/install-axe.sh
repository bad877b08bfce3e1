#!/bin/sh
# Installs axe-core (npm) for the browser accessibility checks of the end-to-end tests into .tools/axe-core/
# (gitignored); the tests inject node_modules/axe-core/axe.min.js into headless Chromium. Versions are locked by
# tests/e2e/axe/package-lock.json. Idempotent: a no-op when the installed lock matches the committed one. Needs npm
# and the npm registry; prints a loud WARNING and exits 0 when it cannot.
set -eu
cd "$(dirname "$0")/.."
source_dir=tests/e2e/axe
target=.tools/axe-core
if [ -f "$target/node_modules/axe-core/axe.min.js" ] && cmp -s "$source_dir/package-lock.json" "$target/package-lock.json"; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] && [ "${INSTALL_AS_USER:-false}" != "true" ]; then
    echo "WARNING: install-axe: not root, so axe-core for the accessibility checks is NOT installed;" >&2
    echo "WARNING: those tests will skip (and fail under CI=true). Set INSTALL_AS_USER=true to install anyway." >&2
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "WARNING: install-axe: npm is missing, so axe-core for the accessibility checks is NOT installed." >&2
    exit 0
fi
mkdir -p "$target"
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$target/"
npm ci --prefix "$target" --no-audit --no-fund --loglevel=error
test -f "$target/node_modules/axe-core/axe.min.js"
