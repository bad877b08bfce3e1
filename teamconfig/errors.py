"""Domain errors of team configuration; the API layer maps each to its documented code.

Messages name fields and rules, never the submitted values (which may be secrets).
"""

from __future__ import annotations


class ConfigError(Exception):
    """Base class; ``message`` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigInvalid(ConfigError):
    """A value breaks the schema (API.md §5.7/§5.8) → ``400 validation_error`` with ``details.field``."""

    def __init__(self, field: str, error: str) -> None:
        super().__init__(f"Invalid configuration value for {field}: {error}")
        self.field = field
        self.error = error


class ConfigFieldRefused(ConfigError):
    """An immutable or admin-only field → ``400 invalid_field``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ConfigTooLarge(ConfigError):
    """A node's overrides would exceed the documented 256 KiB → ``413``."""


class ConfigConflict(ConfigError):
    """A concurrent change won, a request is not pending, or a held patch no longer applies → ``409``."""

    def __init__(self, message: str, *, details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.details = details
