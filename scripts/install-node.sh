#!/bin/sh
# Installs Node.js (Debian package nodejs) for the JavaScript SDK's tests (tests/sdk/test_js_sdk.py).
# Idempotent: does nothing when node is on PATH or when not running as root.
set -eu
if command -v node >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-node: node is missing and we are not root; skipping" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends nodejs
