"""Serializer fields that take JSON as it is sent: a string must be a JSON string, an integer a JSON integer, a
boolean ``true``/``false`` (DRF's own fields would turn ``5`` into ``"5"`` and ``"yes"`` into ``True``). Their
messages read as the API's ``validation_error`` details do ("must be at most 100 characters")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class JsonCharField(serializers.CharField):
    default_error_messages = {
        "invalid": "must be a string",
        "max_length": "must be at most {max_length} characters",
        "min_length": "must be at least {min_length} characters",
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value: str = super().to_internal_value(data)
        return value


class JsonIntegerField(serializers.IntegerField):
    """An integer within ``min_value``..``max_value`` (both required: every integer the API takes is bounded)."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs: Any) -> None:
        between = f"must be between {min_value} and {max_value}"
        messages = {"invalid": "must be an integer", "min_value": between, "max_value": between}
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value


class JsonBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "must be a boolean"}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class JsonChoiceField(serializers.ChoiceField):
    def __init__(self, choices: list[str], **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": f"must be one of {', '.join(choices)}"})
        super().__init__(choices, **kwargs)
