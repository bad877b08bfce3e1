"""Write var/dev.env once with generated local-development secrets (never committed, never overwritten)."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/dev.env")
if target.exists():
    sys.exit(0)
target.parent.mkdir(parents=True, exist_ok=True)
lines = [
    "# Generated for local development by scripts/dev_env.py. Real deployments set these in the environment.",
    "DEBUG=false",
    "HTTPS=false",
    f"SECRET_KEY={secrets.token_urlsafe(50)}",
    f"TOKEN_PEPPERS={json.dumps({'1': secrets.token_urlsafe(32)})}",
    f"CONFIG_ENCRYPTION_KEYS={json.dumps({'1': secrets.token_urlsafe(32)})}",
]
target.write_text("\n".join(lines) + "\n", encoding="utf-8")
target.chmod(0o600)
print(f"Wrote local development secrets to {target}")
