"""Template helpers for the web pages: durations, compact JSON, the SVG metric chart and paging links."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import template
from django.http import QueryDict
from django.utils.safestring import SafeString

from incidentfox_web.timestamps import timestamp_html
from web.charts import Chart

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """``75`` → ``1 min 15 s``; ``3725`` → ``1 h 2 min``."""
    try:
        total = max(0, int(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


@register.filter
def ms_to_seconds(milliseconds: Any) -> int:
    try:
        return max(0, int(milliseconds) // 1000)
    except (TypeError, ValueError):
        return 0


@register.simple_tag
def timestamp(value: datetime | None) -> SafeString:
    """One format everywhere (``incidentfox_web.timestamps``)."""
    return timestamp_html(value)


@register.filter
def json_compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "), default=str)


PARAMS_SUMMARY_CHARS = 80


@register.filter
def params_summary(params: Any) -> str:
    """``key=value`` pairs of a tool call's parameters on one short line (long values cut)."""
    if not isinstance(params, dict) or not params:
        return ""
    parts = []
    for key, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        parts.append(f"{key}={text if len(text) <= 30 else text[:29] + '…'}")
    line = ", ".join(parts)
    return line if len(line) <= PARAMS_SUMMARY_CHARS else line[: PARAMS_SUMMARY_CHARS - 1] + "…"


@register.inclusion_tag("web/_chart.html")
def metric_chart(chart: Chart) -> dict[str, Any]:
    return {"chart": chart}


@register.simple_tag
def page_query(query: QueryDict, page: int) -> str:
    """The current query string with ``page`` replaced, so paging keeps the filters."""
    copy = query.copy()
    copy["page"] = str(page)
    return copy.urlencode()
