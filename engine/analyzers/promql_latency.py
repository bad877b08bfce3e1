"""Where a service's latency goes, read from pasted PromQL results (API JSON or console rows).

An SRE answering "why is p99 high" breaks the server-side quantile down by route and the client-side quantile
(``http.client.request.duration``, ``db.client.operation.duration``...) by peer: when one peer's p99 is close to
the slow route's p99 and far above every other dependency's, the time is spent waiting for that peer. A range
query of that peer's latency dates the step; a ReplicaSet of the peer created just before it is the change.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_QUERY = re.compile(
    r"^\s*(?:#|>|query(?:_range)?:)\s*(?:query(?:_range)?:\s*)?(?P<q>.*histogram_quantile\(\s*(?P<quantile>0?\.\d+)[^\n]*)$"
)
_BY = re.compile(r"by\s*\((?P<labels>[^)]*)\)")
_SERVICE = re.compile(r"""\b(?:service|service_name|job|app)\s*=~?\s*["'](?P<service>[\w.-]+)["']""")
_JSON_SAMPLE = re.compile(
    r"""\{"metric":\s*(?P<metric>\{[^{}]*\}),\s*"value":\s*\[\s*[\d.]+\s*,\s*"(?P<v>[\d.eE+-]+)"\s*\]\}"""
)
_CONSOLE_SAMPLE = re.compile(r"""^\s*\{(?P<labels>[^{}]*)\}\s+(?P<v>[\d.eE+-]+)\s*$""")
_POINT = re.compile(r"""\[\s*(?P<t>\d{9,11}(?:\.\d+)?)\s*,\s*"(?P<v>[\d.eE+-]+)"\s*\]""")
_PEER_LABELS = (
    "server_address",
    "net_peer_name",
    "peer_service",
    "destination_service",
    "destination_workload",
    "upstream",
    "server",
    "target",
    "db_name",
    "db_system",
)
_RS_ROW = re.compile(
    r"^(?P<rs>[a-z0-9][\w.-]*-[a-z0-9]{6,10})\s+\d+\s+\S+\s+(?P<image>\S+:\S+)\s+(?P<created>\d{4}-\d\d-\d\dT[\d:]+Z)\s*$"
)


@dataclass
class _Result:
    query: str
    label: str  # the grouping label other than le ("" when none)
    quantile: str  # "p99"
    client: bool  # a client-side (outgoing call) latency
    service: str
    cite_label: str
    samples: list[tuple[str, float, str]] = field(default_factory=list)  # (label value, seconds, line)
    points: list[tuple[float, float]] = field(default_factory=list)  # a range query's (unix, seconds)
    matrix: bool = False  # a range query's result ("values" lists) has begun


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    results = _results(obs)
    if not results:
        return []
    servers = [r for r in results if not r.client and r.samples]
    clients = [r for r in results if r.client and r.samples and r.label in _PEER_LABELS[:7]]
    if not clients:
        return []
    peers = max(clients, key=lambda r: max(v for _, v, _ in r.samples))
    ranked = sorted(peers.samples, key=lambda s: -s[1])
    peer, peer_p, peer_line = ranked[0]
    rest = max((v for _, v, _ in ranked[1:]), default=0.0)
    if peer_p < 0.2 or peer_p < 5 * rest:
        return []
    route = max((s for r in servers for s in r.samples), key=lambda s: s[1], default=None)
    if route is not None and peer_p < 0.5 * route[1]:
        return []  # the peer explains only a small part of the slow route
    service = peers.service or (ctx.question.named if ctx.question and ctx.question.named else "the service")
    peer_name = peer.split(".")[0].split(":")[0]
    evidence = [f"{peers.cite_label} {excerpt(peer_line.strip(), around=peer)}"]
    where = ""
    if route is not None:
        where = f" {route[0]} has {servers[0].quantile} {_secs(route[1])}, and"
        evidence.insert(0, f"{servers[0].cite_label} {excerpt(route[2].strip(), around=route[0])}")
    title = (
        f"{service}:{where} its calls to {peer} take {peers.quantile} {_secs(peer_p)} (every other dependency {_secs(rest)} or less): "
        f"the latency is time spent waiting for {peer_name}"
    )
    onset = _onset(next((r.points for r in results if r.points and r.client), []))
    if onset is not None:
        title += f"; {peer_name}'s latency rose from {_secs(onset[1])} to {_secs(onset[2])} at {onset[0]:%H:%M}Z"
        change = _rollout_before(obs, peer_name, onset[0])
        if change:
            title += f", {change[0]}"
            evidence.append(change[1])
    return [
        Finding(
            kind="dependency_latency",
            subject=f"{service}:dependency_latency",
            role="cause",
            title=title,
            weight=86,
            evidence=evidence,
            workload=service,
            related=[peer_name],
            recommendations=[
                rec(
                    "high",
                    f"Look at {peer_name}: its latency, its latest rollout and what it waits on; roll it back if the step follows a deploy",
                ),
            ],
            affected=[service, peer_name],
        )
    ]


def _results(obs: Observations) -> list[_Result]:
    docs = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    results: list[_Result] = []
    for label, lines in docs:
        current: _Result | None = None
        for line in lines:
            query = _QUERY.match(line)
            if query:
                current = _result(query.group("q"), label, query.group("quantile"))
                results.append(current)
                continue
            if current is None:
                continue
            for sample in _JSON_SAMPLE.finditer(line):
                value = _labelled(current, _json_labels(sample.group("metric")))
                if value is not None:
                    current.samples.append((value, float(sample.group("v")), line))
            console = _CONSOLE_SAMPLE.match(line)
            if console:
                pairs = dict(re.findall(r"""([\w]+)\s*=\s*["']([^"']*)["']""", console.group("labels")))
                value = _labelled(current, pairs)
                if value is not None:
                    current.samples.append((value, float(console.group("v")), line))
            current.matrix = current.matrix or '"values"' in line
            if current.matrix:
                current.points += [(float(p.group("t")), float(p.group("v"))) for p in _POINT.finditer(line)]
    return results


def _result(query: str, label: str, quantile: str) -> _Result:
    by = _BY.search(query)
    labels = [x.strip() for x in by.group("labels").split(",")] if by else []
    group = next((x for x in labels if x and x != "le"), "")
    service = _SERVICE.search(query)
    client = "client" in query.lower() or group in _PEER_LABELS or "server_address=" in query
    name = f"p{float(quantile) * 100:g}"
    return _Result(query, group, name, client, service.group("service") if service else "", label)


def _json_labels(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _labelled(result: _Result, labels: dict[str, str]) -> str | None:
    return labels.get(result.label) if result.label else None


def _secs(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _onset(points: list[tuple[float, float]]) -> tuple[datetime, float, float] | None:
    """The first point at three times or more the median of the points before it (at least three of them)."""
    for index in range(3, len(points)):
        before = statistics.median(v for _, v in points[:index])
        if before > 0 and points[index][1] >= 3 * before:
            return datetime.fromtimestamp(points[index][0], UTC), before, points[-1][1]
    return None


def _rollout_before(obs: Observations, peer: str, onset: datetime) -> tuple[str, str] | None:
    """A ReplicaSet of the peer created in the half hour before the onset: that rollout is the change."""
    for text in obs.texts:
        for line in text.lines:
            row = _RS_ROW.match(line.strip())
            if not row or not row.group("rs").startswith(f"{peer}-"):
                continue
            created = datetime.strptime(row.group("created"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            if timedelta(0) <= onset - created <= timedelta(minutes=30):
                words = f"{int((onset - created).total_seconds() // 60)} min after {row.group('rs')} ({row.group('image')}) was rolled out at {created:%H:%M:%S}Z"
                return words, f"{text.label} {excerpt(line.strip(), around=row.group('rs'))}"
    return None
