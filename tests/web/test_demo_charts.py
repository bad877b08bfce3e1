"""The completed demo investigation page: a chart of the metric the root cause cites, onset marked, page small."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.test import Client

from tests.support.demo import bootstrap_demo_and_run

PAGE_LIMIT_BYTES = 100 * 1024


# transactional: the run is enqueued on commit, as in production.
def test_the_completed_demo_investigation_page_shows_the_metric_chart_with_the_onset_next_to_its_evidence(
    transactional_db: None,
) -> None:
    body, _ = bootstrap_demo_and_run("payments is slow, checkout latency is high")

    browser = Client()
    browser.force_login(get_user_model().objects.get(username="demo"))
    page = browser.get(f"/investigations/{body['investigation_id']}")

    assert page.status_code == 200
    html = page.content.decode()
    assert len(page.content) < PAGE_LIMIT_BYTES
    evidence = html[html.index('<ul class="evidence">') : html.index("</ul>", html.index('<ul class="evidence">'))]
    assert "query_prometheus_range</a>" in evidence
    assert evidence.count("<svg") >= 1
    assert '<line class="chart-onset"' in evidence
    assert re.search(r'class="onset">onset \d\d:\d\d UTC<', evidence)
    # Only the series the evidence names is drawn next to it, not every series of the sweep.
    assert evidence.count("<svg") == len(
        re.findall(r"tool\]?</span> <a href=\"#call-1-\d+\" class=\"evidence-link\">query_prometheus_range", evidence)
    )
