"""The concrete detail behind a FailedScheduling message, wherever the cluster printed it.

The scheduler says *which* filter failed ("3 Insufficient memory", "Too many pods", "didn't match pod affinity
rules"); an SRE then reads the pod's request, the nodes' allocatable pod count, the affinity's label selector,
the cordoned nodes or the topology key from the rest of the paste. These helpers find them in every format
kubectl prints them: ``describe`` blocks (``Requests:`` / ``Allocatable:``), ``-o yaml``/``-o json`` specs,
``-o jsonpath`` fragments, custom-columns tables and ``get nodes`` tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.facts import Observations
from engine.parsers.common import excerpt

_QUANTITY = r"\"?([0-9]+(?:\.[0-9]+)?(?:[KMGTPE]i?|[kmun])?)\"?"


def lines_of(obs: Observations) -> Iterator[tuple[str, str]]:
    """Every (label, line) read in this run: parsed texts and logs (fragments that no parser claimed)."""
    for text in obs.texts:
        for line in text.lines:
            yield text.label, line
    for doc in obs.logs:
        for line in doc.lines:
            yield doc.label, line


def _cite(label: str, line: str, around: str) -> str:
    return f"{label} {excerpt(line.strip(), around=around)}"


def requested(resource: str, obs: Observations) -> tuple[str, str] | None:
    """The amount of ``resource`` a container requests (``120Gi``) and the line that shows it.

    Read from a ``requests`` block: ``Requests:`` in describe, ``requests:`` in YAML, ``"requests": {...}`` in
    JSON (also a jsonpath fragment on one line). A ``limits`` block that follows ends the search.
    """
    key = re.escape(resource)
    inline = re.compile(
        r"\"requests\"\s*:\s*\{[^}]*\""
        + key
        + r"\"\s*:\s*"
        + _QUANTITY
        + r"|requests\."
        + key
        + r":\s*"
        + _QUANTITY
        + r"\s*$",
        re.I,
    )
    entry = re.compile(r"^\s*(?:-\s+)?\"?" + key + r"\"?\s*:\s*" + _QUANTITY + r"\s*,?\s*$", re.I)
    header = re.compile(r"^(\s*)(?:-\s+)?\"?requests\"?\s*:\s*\{?\s*$", re.I)
    stop = re.compile(r"^\s*\"?(?:limits|claims)\"?\s*:", re.I)
    pending: tuple[str, int] | None = None  # (label, indent) of an open requests block
    for label, line in lines_of(obs):
        found = inline.search(line)
        if found:
            amount = found.group(1) or found.group(2)
            return amount, _cite(label, line, amount)
        head = header.match(line)
        if head:
            pending = (label, len(head.group(1)))
            continue
        if pending is None:
            continue
        indent = len(line) - len(line.lstrip())
        if pending[0] != label or stop.match(line) or (line.strip() and indent <= pending[1]):
            pending = None
            continue
        value = entry.match(line)
        if value:
            return value.group(1), _cite(label, line, value.group(1))
    return None


_PODS_ALLOCATABLE = re.compile(r"^\s*\"?pods\"?\s*:\s*\"?(\d+)\"?,?\s*$")
_NON_TERMINATED = re.compile(r"Non-terminated Pods:\s*\((\d+) in total\)")


def pod_capacity(obs: Observations) -> tuple[int, str] | None:
    """The pods a node may run (allocatable ``pods``): describe's Capacity/Allocatable, a spec's
    ``status.allocatable.pods``, a ``PODS``/``MAX-PODS`` column of a nodes table."""
    columns: list[int] = []
    for label, line in lines_of(obs):
        found = _PODS_ALLOCATABLE.match(line)
        if found and int(found.group(1)) > 0:
            return int(found.group(1)), _cite(label, line, found.group(1))
        cells = line.split()
        if "NAME" in cells and all(not any(ch.islower() for ch in cell) for cell in cells):
            columns = [i for i, cell in enumerate(cells) if cell in ("PODS", "MAX-PODS", "MAXPODS", "MAX_PODS")]
            continue
        for index in columns:
            if index < len(cells) and cells[index].isdigit():
                return int(cells[index]), _cite(label, line, cells[index])
    for label, line in lines_of(obs):
        found = _NON_TERMINATED.search(line)
        if found:
            return int(found.group(1)), _cite(label, line, found.group(0))
    return None


def cordoned_nodes(obs: Observations) -> list[tuple[str, str]]:
    """(node, evidence) for every node marked unschedulable (``kubectl cordon``)."""
    return [(node.name, node.cites.get("unschedulable", "")) for node in obs.nodes if node.unschedulable]


_MATCH_LABELS_JSON = re.compile(r"\"matchLabels\"\s*:\s*\{([^}]*)\}")
_PAIR_JSON = re.compile(r"\"([\w./-]+)\"\s*:\s*\"([^\"]*)\"")


def pod_affinity_selector(obs: Observations, anti: bool) -> tuple[str, str] | None:
    """The label selector of a required pod (anti-)affinity term, as ``key=value`` and the line showing it.

    Read after a ``podAffinity``/``podAntiAffinity`` key (YAML or JSON), or from a line that holds both
    ``requiredDuringScheduling...`` and ``matchLabels`` (a jsonpath print or a flattened document): node
    affinity selects with ``nodeSelectorTerms``, so ``matchLabels`` there is always a pod term.
    """
    want = "podAntiAffinity" if anti else "podAffinity"
    block: tuple[str, int] | None = None  # (label, lines left)
    for label, line in lines_of(obs):
        if want in line:
            block = (label, 16)
        elif "requiredDuringScheduling" in line and "matchLabels" in line and "AntiAffinity" not in line:
            block = (label, 1) if not anti else block
        if block is None or block[0] != label or block[1] <= 0:
            block = None
            continue
        block = (label, block[1] - 1)
        for match in _MATCH_LABELS_JSON.finditer(line):
            pairs = _PAIR_JSON.findall(match.group(1))
            if pairs:
                return ",".join(f"{k}={v}" for k, v in pairs), _cite(label, line, pairs[0][1])
        flat = re.search(r"matchLabels\.([\w./-]+):\s*([\w.-]+)", line)
        if flat:
            return f"{flat.group(1)}={flat.group(2)}", _cite(label, line, flat.group(2))
        pair = re.match(r"^\s+([\w./-]+):\s*([\w.-]+)\s*$", line)
        if pair and pair.group(1) not in ("topologyKey", "operator", "weight"):
            return f"{pair.group(1)}={pair.group(2)}", _cite(label, line, pair.group(2))
    return None


def topology_key(obs: Observations) -> tuple[str, str] | None:
    """The topologyKey a spread constraint spreads over (``topology.kubernetes.io/zone``)."""
    for label, line in lines_of(obs):
        found = re.search(r"\"?topologyKey\"?\s*[:=]\s*\"?([\w./-]+)", line)
        if found:
            return found.group(1), _cite(label, line, found.group(1))
    return None


def node_affinity_terms(obs: Observations, kinds: tuple[str, ...] = ()) -> str:
    """The required node-affinity expressions (``topology.kubernetes.io/zone In [eu-west-1c]``) of a spec read
    as an object or a document; empty when none was printed."""
    sources = [r.raw for r in obs.resources if not kinds or r.kind in kinds]
    for data in sources + ([] if kinds else [d.data for d in obs.documents]):
        terms = find_key(data, "nodeSelectorTerms")
        if not isinstance(terms, list):
            continue
        rendered = []
        for term in terms:
            for expression in (term.get("matchExpressions") or []) if isinstance(term, dict) else []:
                if isinstance(expression, dict) and expression.get("key"):
                    values = expression.get("values") or []
                    rendered.append(
                        f"{expression['key']} {expression.get('operator', 'In')} [{', '.join(str(v) for v in values)}]"
                    )
        if rendered:
            return " or ".join(rendered)
    return ""


def find_key(data: object, key: str, depth: int = 0) -> object:
    """The first value stored under ``key`` anywhere in a nested document (depth-limited)."""
    if depth > 8:
        return None
    if isinstance(data, dict):
        if key in data:
            return data[key]
        for value in data.values():
            found = find_key(value, key, depth + 1)
            if found is not None:
                return found
    elif isinstance(data, list):
        for item in data:
            found = find_key(item, key, depth + 1)
            if found is not None:
                return found
    return None
