"""Small, strict parsers for settings read from the environment.

Every parser raises ``ImproperlyConfigured`` with the variable's name on bad input, so a typo fails at start-up
instead of silently falling back to a default. Secrets have no defaults and may come from ``<NAME>_FILE``
(container secrets) instead of the variable itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_UNSET = object()


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or value == "" else value


def env_str(name: str, default: str | object | None = _UNSET) -> str:
    value = _raw(name)
    if value is not None:
        return value
    if default is _UNSET or default is None:
        raise ImproperlyConfigured(f"Environment variable {name} is required.")
    return str(default)


def env_optional_str(name: str) -> str | None:
    return _raw(name)


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, got {number}.")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, *, required: bool = True) -> str | None:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE``; never defaulted."""
    value = _raw(name)
    file_name = _raw(f"{name}_FILE")
    if value is not None and file_name is not None:
        raise ImproperlyConfigured(f"Set only one of {name} and {name}_FILE.")
    if file_name is not None:
        try:
            value = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at an unreadable file ({exc.strerror}).") from None
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE points at an empty file.")
    if value is None and required:
        raise ImproperlyConfigured(f"Secret {name} (or {name}_FILE) is required.")
    return value


def env_secret_map(name: str) -> dict[str, str]:
    """A JSON object of versioned secrets, e.g. ``{"2": "new", "1": "old"}``; at least one entry required."""
    raw = env_secret(name)
    assert raw is not None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        raise ImproperlyConfigured(f"{name} must be a JSON object mapping versions to secrets.") from None
    if (
        not isinstance(parsed, dict)
        or not parsed
        or not all(
            isinstance(k, str) and k.isdigit() and isinstance(v, str) and len(v) >= 16 for k, v in parsed.items()
        )
    ):
        raise ImproperlyConfigured(
            f"{name} must be a non-empty JSON object of numeric versions to secrets of at least 16 characters."
        )
    return parsed


def load_env_file(path: Path) -> None:
    """Load ``KEY=VALUE`` lines into the environment without overriding variables that are already set."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip())
