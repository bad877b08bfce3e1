"""One timestamp format for every page and admin table: relative within a week, the exact UTC time on hover."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.admin import display
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

RELATIVE_FOR = timedelta(days=7)


def timestamp_html(value: datetime | None) -> SafeString:
    """``<time>`` reading "5 minutes ago" / "in 2 hours" within a week (else the date and minute in UTC), with
    the exact time and its timezone as the hover title."""
    if value is None:
        return format_html("{}", "—")
    absolute = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    age = timezone.now() - value
    if abs(age) < timedelta(minutes=1):
        shown = "just now"
    elif timedelta(0) < age < RELATIVE_FOR:
        shown = f"{timesince(value).split(',')[0]} ago"
    elif timedelta(0) < -age < RELATIVE_FOR:
        shown = f"in {timeuntil(value).split(',')[0]}"
    else:
        shown = absolute[:16] + " UTC"
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), absolute, shown)


def admin_timestamp_column(field: str, description: str) -> Callable[[Any, Any], SafeString]:
    """A Django admin ``list_display`` column rendering ``field`` in the same format, sortable by the field."""

    def column(admin: Any, obj: Any) -> SafeString:
        return timestamp_html(getattr(obj, field))

    column.__name__ = f"{field}_shown"
    return display(description=description, ordering=field)(column)
