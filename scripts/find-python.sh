#!/usr/bin/env bash
# Prints the path of a Python >= 3.12 interpreter, or fails with a clear message.
# Order: $PYTHON, python3.12/python3.13 on PATH (3.12 first: the lock is resolved on it) (skipping pyenv shims that cannot answer), pyenv versions, python3.
set -euo pipefail

usable() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for name in python3.12 python3.13; do
  command -v "$name" >/dev/null 2>&1 && candidates+=("$(command -v "$name")")
done
root=""
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
elif [ -d "${PYENV_ROOT:-$HOME/.pyenv}/versions" ]; then
  root="${PYENV_ROOT:-$HOME/.pyenv}"
fi
if [ -n "$root" ]; then
  for dir in $(ls -d "$root"/versions/3.1[2-9]* 2>/dev/null | sort -V); do
    candidates+=("$dir/bin/python3")
  done
fi
candidates+=(python3)

for candidate in "${candidates[@]}"; do
  if usable "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done
echo "error: IncidentFox needs Python >= 3.12. Install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
exit 1
