"""Bodies of the data source connection test (``POST /config/me/tools/{tool}/test``): the input serializer
validates requests and drf-spectacular documents the same classes."""

from __future__ import annotations

from rest_framework import serializers


class DataSourceTestIn(serializers.Serializer):  # type: ignore[type-arg]
    settings = serializers.DictField(
        required=False,
        help_text=(
            'Unsaved settings laid over the saved ones, in the config\'s shape ({"url": …, "auth": {"secret": …}}); '
            "secrets left out or ******** keep the stored value, null tests without it. Nothing is saved."
        ),
    )


class DataSourceTestOut(serializers.Serializer):  # type: ignore[type-arg]
    tool = serializers.CharField()
    ok = serializers.BooleanField()
    message = serializers.CharField(
        help_text="What answered (version, metric names, documents …) or why nothing did; never a secret"
    )
    duration_ms = serializers.IntegerField()
