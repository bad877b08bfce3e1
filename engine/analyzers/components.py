"""Which component changed first, and which changes are only its callers feeling it.

For every series: a robust baseline (median and MAD) before the incident's start, robust z-scores after it
(in the direction that means trouble for that kind of signal), smoothed by a running median so one odd
scrape does not count, the peak of that persistent deviation as the series' score and the first time it
crossed a threshold as its onset. A series that stops reporting after the start is an outage of its own.

Per component: its strongest signal (weighted by how directly the kind of signal points at the component
itself). Then cause before symptom: a component whose callees (from the call graph the metrics' labels or the
team declare) deviated no later than it did is most likely feeling them, so it goes after the callees that
explain it; without a graph, earlier onset first and, for near-simultaneous onsets, a component's own
resources (CPU, memory, disk, network, restarts) before latency and errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from engine.analyzers.metrics import MetricKind, Sensitivity, detect_onset, median
from engine.facts import CallEdgeFact, SeriesFact

MAD_TO_SIGMA = 1.4826
MIN_BASELINE_POINTS = 8
MIN_SCORE = 6.0  # robust sigmas a component's strongest signal must reach to count as changed
ONSET_SIGMAS = 4.0  # the onset is the first persistent crossing of this many robust sigmas...
ONSET_SHARE = 0.15  # ... or of this share of the peak, whichever is higher (a wobble before a jump is not it)
SMOOTH = 3  # running median width over the incident window
HORIZON = 30 * 60.0  # how long after the stated start the deviation is searched
BASELINE = 60 * 60.0  # how much history before the start is the baseline
EARLY = 5 * 60.0  # a stated start is approximate (an alert fires minutes late): search this long before it too
SIMULTANEOUS = 45.0  # onsets closer than this are the same moment at scrape resolution
CANDIDATE_ONSETS = 12  # the strongest onsets considered as the incident's start when none is stated
FOLLOW_WITHIN = 300.0  # changes that follow a start within this long support it
CLOSE = 0.85  # a runner-up scoring above this share of the leader makes the answer ambiguous
SCORE_CAP = 100_000.0
FROM_FLAT = 50.0  # the score of a change from a constant baseline (an error count from zero, a queue from empty)

# How directly a kind of signal points at the component it is measured on (a caller's latency includes its
# callees' latency; its CPU does not).
OWN_WEIGHT: dict[MetricKind, float] = {
    MetricKind.CPU: 1.0,
    MetricKind.MEMORY: 1.0,
    MetricKind.DISK: 1.0,
    MetricKind.RESTARTS: 1.0,
    MetricKind.AVAILABILITY: 1.0,
    MetricKind.NETWORK: 0.9,
    MetricKind.ERROR_RATIO: 0.9,
    MetricKind.ERROR_RATE: 0.85,
    MetricKind.LATENCY_P50: 0.9,
    MetricKind.LATENCY_P95: 0.9,
    MetricKind.LATENCY_P99: 0.8,
    MetricKind.CONNECTIONS: 0.8,
    MetricKind.QUEUE: 0.8,
    MetricKind.SATURATION: 0.8,
    MetricKind.REQUEST_RATE: 0.8,
    MetricKind.GENERIC: 0.6,
}
VOLUME_FACTOR = 0.6
STRONG = 0.6  # a component's changes at least this share as strong as its strongest say when it started
DRIED_UP = 0.1  # a volume that falls below this share of its baseline: the component stopped serving
EXPLAINS = 0.7  # a callee explains a caller's change when its own change is at least this share as strong
DEMOTE = 0.5  # how much an explained component's score counts against unexplained ones
LATE = 0.6  # the same for a component whose change began well after the strong changes
LATE_PER_MINUTE = 0.1
COMPARABLE = 0.85
PRECEDES = 30.0  # a change this much earlier (two 15 s samples) comes first in time
PRECEDES_WITHIN = 300.0
PRECEDES_SHARE = 0.35
EDGE = 60.0
EDGE_FACTOR = 0.7
RESOURCE_KINDS = frozenset(
    {
        MetricKind.CPU,
        MetricKind.MEMORY,
        MetricKind.DISK,
        MetricKind.NETWORK,
        MetricKind.RESTARTS,
        MetricKind.AVAILABILITY,
        MetricKind.CONNECTIONS,
        MetricKind.QUEUE,
        MetricKind.SATURATION,
    }
)
# Changes a component's callees cannot cause in it.
OWN_RESOURCES = frozenset({MetricKind.CPU, MetricKind.MEMORY, MetricKind.DISK, MetricKind.RESTARTS})
# A callee's change of these kinds reaches its callers; a change in its request rate is the callers' doing.
PROPAGATING = frozenset(MetricKind) - {MetricKind.REQUEST_RATE, MetricKind.GENERIC}
DEFAULT_DIRECTION: dict[MetricKind, str] = {
    MetricKind.REQUEST_RATE: "both",
    MetricKind.NETWORK: "both",
    MetricKind.GENERIC: "both",
    MetricKind.AVAILABILITY: "down",
}


@dataclass(frozen=True)
class Deviation:
    """How one series moved after the incident's start."""

    fact: SeriesFact
    kind: MetricKind
    score: float  # peak persistent robust z in the trouble direction
    onset: float
    baseline: float
    level: float  # the value at the peak of the persistent deviation
    stopped: bool = False  # the series stopped reporting
    dried_up: bool = False  # a volume fell to (nearly) nothing

    @property
    def component(self) -> str:
        return self.fact.service

    @property
    def weighted(self) -> float:
        # A volume that may move either way (traffic, bytes) is more often an effect than a cause.
        volume = VOLUME_FACTOR if _direction(self.fact, self.kind) == 0 and not self.dried_up else 1.0
        return OWN_WEIGHT[self.kind] * volume * math.log1p(min(self.score, SCORE_CAP))

    @property
    def own(self) -> bool:
        """A change a callee's slowness cannot cause here: this component's CPU, memory, disk, restarts, lost
        packets, or it stopped reporting."""
        if self.stopped or self.kind in OWN_RESOURCES:
            return True
        return self.kind is MetricKind.NETWORK and _direction(self.fact, self.kind) > 0

    @property
    def label(self) -> str:
        return self.fact.signal or self.kind.value.replace("_", " ")


@dataclass
class ComponentChange:
    """A component's picture: its deviating signals, strongest first, and where it sits among the others."""

    name: str
    deviations: list[Deviation]
    explained_by: list[str] = field(default_factory=list)  # callees that deviated no later
    explains: list[str] = field(default_factory=list)  # callers whose deviation this one accounts for

    @property
    def head(self) -> Deviation:
        return self.deviations[0]

    @property
    def score(self) -> float:
        return self.head.weighted

    @property
    def onset(self) -> float:
        """When its strong changes began (a weak wobble minutes earlier is noise, not the start)."""
        strong = STRONG * self.head.weighted
        return min(d.onset for d in self.deviations if d.score >= MIN_SCORE and d.weighted >= strong)


@dataclass
class Ranking:
    components: list[ComponentChange]
    anchor: float
    graph: dict[str, set[str]]
    ambiguous: bool = False

    @property
    def top(self) -> ComponentChange | None:
        return self.components[0] if self.components else None


def deviation(fact: SeriesFact, anchor: float, *, end: float | None = None) -> Deviation | None:
    """How ``fact`` moved after ``anchor`` compared with the hour before it, or None when it did not."""
    kind = _kind(fact)
    pts = fact.points
    if len(pts) < MIN_BASELINE_POINTS + 2:
        return None
    lead = max(fact.smoothing_seconds, 30.0)
    search_from = anchor - EARLY
    baseline = [v for t, v in pts if anchor - BASELINE <= t < search_from - lead and math.isfinite(v)]
    if len(baseline) < MIN_BASELINE_POINTS:
        return None
    after = [(t, v) for t, v in pts if search_from <= t <= anchor + HORIZON and math.isfinite(v)]
    center = median(baseline)
    sigma = _sigma(baseline, center)
    spacing = _spacing(pts)
    last = pts[-1][0]
    horizon_end = min(anchor + HORIZON, end if end is not None else last)
    if last < search_from and horizon_end - last > 4 * spacing and len(after) == 0:
        return Deviation(fact, MetricKind.AVAILABILITY, 50.0, last + spacing, center, math.nan, stopped=True)
    if len(after) < 3:
        return None
    sign = _direction(fact, kind)
    z = [((v - center) / sigma) for _, v in after]
    trouble = [sign * x if sign else abs(x) for x in z]
    smooth = _running_median(trouble, SMOOTH)
    peak_at = max(range(len(smooth)), key=smooth.__getitem__)
    score = smooth[peak_at]
    stopped_at = after[-1][0]
    if horizon_end - stopped_at > max(4 * spacing, 120.0) and stopped_at < horizon_end:
        # It reported after the start, then stopped (a crash, an outage): that is the change.
        return Deviation(fact, MetricKind.AVAILABILITY, 50.0, stopped_at + spacing, center, math.nan, stopped=True)
    if max(baseline) == min(baseline):
        score = min(score, FROM_FLAT)  # any change from a constant is "infinitely" many sigmas: count it as many
    if score < MIN_SCORE / 2:
        return None
    if sign == 0 and center > 0 and after[peak_at][1] <= DRIED_UP * center:
        kind, sign = MetricKind.AVAILABILITY, -1  # traffic did not just move, it stopped
    threshold = min(score, max(ONSET_SIGMAS, ONSET_SHARE * score))
    crossing = [i for i, s in enumerate(smooth) if s >= threshold]
    onset_at = next((i for i in crossing if trouble[i] >= threshold), crossing[0])
    onset = after[onset_at][0]
    level = after[peak_at][1]
    # It stopped serving: its traffic dried up, or its health gauge (``up``, ready replicas) fell to nothing.
    dried_up = kind is MetricKind.AVAILABILITY and center > 0 and level <= DRIED_UP * center
    return Deviation(fact, kind, min(score, SCORE_CAP), onset, center, level, dried_up=dried_up)


def rank_components(
    facts: Iterable[SeriesFact],
    anchor: float,
    *,
    edges: Iterable[CallEdgeFact] = (),
    end: float | None = None,
    measure: Callable[[SeriesFact], Deviation | None] | None = None,
) -> Ranking:
    """Components that changed after ``anchor``, likeliest origin first (``measure``: a memoised ``deviation``)."""
    by_component: dict[str, list[Deviation]] = {}
    for fact in facts:
        found = measure(fact) if measure is not None else deviation(fact, anchor, end=end)
        if found is not None:
            by_component.setdefault(fact.service, []).append(found)
    changed = []
    for name, devs in by_component.items():
        devs.sort(key=lambda d: (-d.weighted, d.onset))
        if devs[0].score >= MIN_SCORE:
            changed.append(ComponentChange(name, devs))
    graph = call_graph(edges)
    ordered = _order(changed, graph, anchor)
    ambiguous = False
    if len(ordered) >= 2:
        first, second = ordered[0], ordered[1]
        independent = first.name not in second.explained_by and second.name not in first.explained_by
        together = abs(first.onset - second.onset) <= SIMULTANEOUS
        ambiguous = independent and together and second.score >= CLOSE * first.score and not first.explains
    return Ranking(ordered, anchor, graph, ambiguous)


def call_graph(edges: Iterable[CallEdgeFact]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.caller, set()).add(edge.callee)
    return graph


def downstream(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(graph.get(start, ()))
    while stack:
        node = stack.pop()
        if node in seen or node == start:
            continue
        seen.add(node)
        stack.extend(graph.get(node, ()))
    return seen


def _order(changed: list[ComponentChange], graph: Mapping[str, set[str]], anchor: float) -> list[ComponentChange]:
    by_name = {c.name: c for c in changed}
    for comp in changed:
        if comp.head.own:
            continue  # a callee's slowness does not fill this component's memory, disk or CPU
        below = downstream(graph, comp.name) if graph else set()
        for callee in sorted(below & by_name.keys()):
            other = by_name[callee]
            propagating = [
                d
                for d in other.deviations
                if d.kind in PROPAGATING and d.score >= MIN_SCORE and (d.dried_up or _direction(d.fact, d.kind) != 0)
            ]
            # A callee that stopped serving explains its callers whatever its z-score; otherwise its change must be
            # of a size comparable to the caller's, or a noisy callee would excuse a real origin.
            strong = any(d.dried_up or d.stopped for d in propagating) or (
                max((d.weighted for d in propagating), default=0.0) >= EXPLAINS * comp.score
            )
            if strong and min(d.onset for d in propagating) <= comp.onset + SIMULTANEOUS:
                comp.explained_by.append(callee)
                other.explains.append(comp.name)
    top = max((c.score for c in changed), default=0.0)
    # The strong changes say when the incident began.
    leaders = [c for c in changed if c.score >= 0.7 * top and c.onset >= anchor - EARLY + EDGE]

    def key(comp: ComponentChange) -> tuple[float, str]:
        score = comp.score
        if comp.explained_by:
            score *= DEMOTE
        # Near-equal changes are told apart by who moved first: each minute after the earliest comparable change
        # costs a tenth (at most 1 - LATE). A clearly stronger change is not outranked by an earlier weak one.
        rivals = [c.onset for c in leaders if c.onset < comp.onset and c.score >= COMPARABLE * comp.score]
        if rivals:
            score *= 1.0 - min(1.0 - LATE, LATE_PER_MINUTE * (comp.onset - min(rivals)) / 60.0)
        if comp.onset < anchor - EARLY + EDGE:
            score *= EDGE_FACTOR  # already moving when the search began: likely a condition older than this
        if not graph and comp.head.kind in RESOURCE_KINDS:
            score *= 1.1  # without a graph, a component's own resources before its callers' latency
        return (-score, comp.name)

    ordered = sorted(changed, key=key)
    nodes = set(graph) | {callee for callees in graph.values() for callee in callees}
    return _resource_first(ordered, nodes)


def _resource_first(ordered: list[ComponentChange], nodes: set[str]) -> list[ComponentChange]:
    """A component whose own resources changed shortly before the leader's latency or errors is the likelier
    origin (saturation of a dependency comes before its callers' symptoms) when the call graph cannot tell: it
    is unknown, or knows one of the two not at all."""
    if len(ordered) < 2:
        return ordered
    leader = ordered[0]
    if leader.head.own:
        return ordered  # its own resource changed: nothing upstream of it needs to explain that
    for comp in ordered[1:]:
        gap = leader.onset - comp.onset
        unknown = leader.name not in nodes or comp.name not in nodes
        went_down = comp.head.stopped or comp.head.dried_up  # as direct as evidence gets: no need to be earlier
        if (
            unknown
            and comp.head.kind in RESOURCE_KINDS
            and (-SIMULTANEOUS if went_down else PRECEDES) <= gap <= PRECEDES_WITHIN
            and comp.score >= PRECEDES_SHARE * leader.score
        ):
            return [comp, *(c for c in ordered if c is not comp)]
    return ordered


def anchor_from_onsets(facts: Sequence[SeriesFact], earliest: float) -> float | None:
    """Without a stated start: when most of the strong changes after ``earliest`` began.

    An incident moves many series within minutes of each other (the origin, then its callers), while a batch job
    or a lone blip moves a few; so each strong onset is weighed by the changes that follow it within five minutes
    and the best supported one wins (the earlier one on a tie)."""
    onsets: list[tuple[float, float]] = []
    for fact in facts:
        kind = _kind(fact)
        found = detect_onset(fact.points, kind=kind, sensitivity=_loose(kind), smoothing_seconds=fact.smoothing_seconds)
        if found is not None and found.onset >= earliest:
            onsets.append((found.onset, math.log1p(min(found.sigmas, SCORE_CAP))))
    if not onsets:
        return None
    candidates = sorted(onsets, key=lambda o: -o[1])[:CANDIDATE_ONSETS]

    def support(at: float) -> float:
        return sum(weight for t, weight in onsets if at - SIMULTANEOUS <= t <= at + FOLLOW_WITHIN)

    return min(candidates, key=lambda c: (-support(c[0]), c[0]))[0]


def _loose(kind: MetricKind) -> Sensitivity:
    return Sensitivity(sigmas=5.0, min_relative=0.1, direction=DEFAULT_DIRECTION.get(kind, "up"))


def _kind(fact: SeriesFact) -> MetricKind:
    try:
        return MetricKind(fact.kind)
    except ValueError:
        return MetricKind.GENERIC


def _direction(fact: SeriesFact, kind: MetricKind) -> int:
    """+1 when trouble is a rise, -1 a fall, 0 either way."""
    direction = fact.direction or DEFAULT_DIRECTION.get(kind, "up")
    return {"up": 1, "down": -1}.get(direction, 0)


def _sigma(values: Sequence[float], center: float) -> float:
    """Robust spread with floors: a flat baseline must not turn a rounding wiggle into a huge z-score."""
    mad = MAD_TO_SIGMA * median([abs(v - center) for v in values])
    spread = max(values) - min(values)
    return max(mad, 0.05 * spread, 0.01 * abs(center), 1e-6)


def _spacing(pts: Sequence[tuple[float, float]]) -> float:
    if len(pts) < 2:
        return 15.0
    return max((pts[-1][0] - pts[0][0]) / (len(pts) - 1), 1e-3)


def _running_median(values: Sequence[float], width: int) -> list[float]:
    if width <= 1 or len(values) < width:
        return list(values)
    half = width // 2
    out: list[float] = []
    for i in range(len(values)):
        window = sorted(values[max(0, i - half) : i + half + 1])
        out.append(window[len(window) // 2])
    return out
