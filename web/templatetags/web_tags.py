"""Template helpers for the web pages: durations, compact JSON, the SVG metric chart and paging links."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.http import QueryDict

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
def json_compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "), default=str)


@register.inclusion_tag("web/_chart.html")
def metric_chart(chart: Chart) -> dict[str, Any]:
    return {"chart": chart}


@register.simple_tag
def page_query(query: QueryDict, page: int) -> str:
    """The current query string with ``page`` replaced, so paging keeps the filters."""
    copy = query.copy()
    copy["page"] = str(page)
    return copy.urlencode()
