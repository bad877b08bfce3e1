#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages, idempotently. Each installer is a no-op when its
# tool is already present, and prints a loud notice (tests then skip, or fail under CI=true) when it cannot install.
set -uo pipefail
cd "$(dirname "$0")/.."
for installer in scripts/install-*.sh; do
  [ "$installer" = "scripts/install-test-deps.sh" ] && continue
  bash "$installer" || echo "WARNING: $installer failed; tests that need it will skip (and fail under CI=true)." >&2
done
exit 0
