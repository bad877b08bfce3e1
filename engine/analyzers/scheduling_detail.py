"""The concrete detail behind a FailedScheduling message, wherever the cluster printed it.

The scheduler says *which* filter failed ("3 Insufficient memory", "Too many pods", "didn't match pod affinity
rules"); an SRE then reads the pod's request, the nodes' allocatable pod count, the affinity's label selector,
the cordoned nodes or the topology key from the rest of the paste. These helpers find them in every format
kubectl prints them: ``describe`` blocks (``Requests:`` / ``Allocatable:``), ``-o yaml``/``-o json`` specs,
``-o jsonpath`` fragments, custom-columns tables and ``get nodes`` tables.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from engine.facts import Observations
from engine.parsers.common import excerpt, string_map_line

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


def _diff_labels(obs: Observations) -> set[str]:
    """Attachments that are unified diffs (``+++ b/...`` and ``@@`` hunks)."""
    labels: set[str] = set()
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        if any(line.startswith("+++ ") for line in lines) and any(line.startswith("@@") for line in lines):
            labels.add(label)
    return labels


def allocatable(resource: str, obs: Observations) -> tuple[str, str] | None:
    """The largest allocatable amount of ``resource`` a node prints (describe's ``Allocatable:`` block, a node's
    ``status.allocatable``), with the line that shows it."""
    best: tuple[float, str, str] | None = None
    inside, depth = False, 0
    for label, line in lines_of(obs):
        header = re.match(r"^(\s*)\"?allocatable\"?\s*:\s*\{?\s*$", line, re.I)
        if header:
            inside, depth = True, len(header.group(1))
            continue
        if inside and line.strip() and len(line) - len(line.lstrip()) <= depth:
            inside = False
        if inside:
            found = re.match(r"^\s*\"?" + re.escape(resource) + r"\"?\s*:\s*" + _QUANTITY + r"\s*,?\s*$", line)
            if found:
                amount = quantity(found.group(1))
                if best is None or amount > best[0]:
                    best = (amount, found.group(1), _cite(label, line, found.group(1)))
            elif not re.match(r"^\s+\"?[\w./-]+\"?\s*:", line):
                inside = False
    if best is None:  # custom-columns printing .status.allocatable.<resource>: the largest value of that column
        for label, lines, command in _docs(obs):
            if "allocatable" not in command or resource.split("/")[-1] not in command.replace("\\", ""):
                continue
            for line in lines[1:]:
                cells = line.split()
                if len(cells) >= 2 and re.fullmatch(r"\d+(?:\.\d+)?[A-Za-z]*", cells[-1]):
                    amount = quantity(cells[-1])
                    if best is None or amount > best[0]:
                        best = (amount, cells[-1], _cite(label, line, cells[-1]))
    return (best[1], best[2]) if best else None


def offered_instead(resource: str, obs: Observations) -> tuple[str, str, str] | None:
    """A sibling of an extended resource that the nodes do offer while none offers ``resource`` itself: a node
    exposing ``nvidia.com/mig-1g.10gb: 56`` to a pod asking for ``nvidia.com/mig-1g.5gb`` (a MIG profile of another
    GPU model), as (resource, amount, cite)."""
    domain, _, name = resource.partition("/")
    if not name or allocatable(resource, obs):
        return None
    stem = name.split("-")[0] + "-" if "-" in name else ""
    sibling = re.compile(
        r"\"?(?P<res>" + re.escape(domain) + "/" + re.escape(stem) + r"[\w.-]+)\"?\s*[:=]\s*\"?(?P<n>\d+)\"?"
    )
    for label, line in lines_of(obs):
        for found in sibling.finditer(line):
            if found.group("res") != resource and int(found.group("n")) > 0:
                return found.group("res"), found.group("n"), _cite(label, line, found.group("res"))
    return None


def _docs(obs: Observations) -> list[tuple[str, list[str], str]]:
    return [(t.label, t.lines, t.command) for t in obs.texts] + [(d.label, d.lines, d.command) for d in obs.logs]


def extended_limit(resource: str, obs: Observations) -> tuple[str, str] | None:
    """An extended resource (``nvidia.com/gpu``) is requested through its limit: the amount a ``limits`` block or a
    one-line print of ``.resources.limits`` gives."""
    key = re.escape(resource)
    for label, lines, command in _docs(obs):
        for line in lines:
            found = re.search(r"\"?" + key + r"\"?\s*:\s*" + _QUANTITY, line)
            if found and ("limits" in line or "limits" in command or "requests" in command):
                return found.group(1), _cite(label, line, found.group(1))
    return None


def quantity(text: str) -> float:
    """A Kubernetes quantity as a number (cpu in cores, memory in bytes): ``3920m`` -> 3.92, ``4`` -> 4."""
    found = re.match(r"^([0-9]+(?:\.[0-9]+)?)([KMGTPE]i?|[kmun])?$", text.strip().strip('"'))
    if not found:
        return 0.0
    number, unit = float(found.group(1)), found.group(2) or ""
    scale = {"m": 1e-3, "u": 1e-6, "n": 1e-9, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
    if unit.endswith("i"):
        return number * float(1024 ** ("KMGTPE".index(unit[0]) + 1))
    return number * scale.get(unit, 1.0)


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
    diffs = _diff_labels(obs)
    for label, raw in lines_of(obs):
        if label in diffs and raw.startswith("-"):
            continue  # a unified diff's removed line: not what is requested now
        line = " " + raw[1:] if label in diffs and raw.startswith("+") and not raw.startswith("+++") else raw
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
    expression_key: str | None = None  # a matchExpressions term's key, waiting for its values
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
        key = re.match(r"^\s*-?\s*key:\s*\"?([\w./-]+)\"?\s*$", line)
        if key:
            expression_key = key.group(1)
            continue
        values = re.match(r"^\s*values:\s*\[([^\]]*)\]", line)
        if values and expression_key:
            listed = ", ".join(v.strip().strip("\"'") for v in values.group(1).split(",") if v.strip())
            return f"{expression_key} in ({listed})", _cite(label, line, "values")
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
        found = re.search(r"\"?topologyKey\"?\s*[:=]\s*\"?([\w./-]+)", line) or re.search(
            r"Topology Spread Constraints:\s+([\w./-]+):(?:DoNotSchedule|ScheduleAnyway)", line
        )  # describe pod: "topology.kubernetes.io/zone:DoNotSchedule when max skew 1 is exceeded ..."
        if found:
            return found.group(1), _cite(label, line, found.group(1))
    for document in obs.documents:  # a pasted spec excerpt read as a document
        for line in document.lines:
            found = re.search(r"topologyKey\"?\s*[:=]\s*\"?([\w./-]+)", line)
            if found:
                return found.group(1), _cite(document.label, line, found.group(1))
    return None


_POOL = re.compile(r"limits for nodepool:?\s*\\?\"?(?P<pool>[a-z0-9][\w.-]*)|node group (?P<group>[\w.-]+)", re.I)


def pool_limits(message: str, obs: Observations, evidence: list[str]) -> str:
    """The node pool an autoscaler cannot grow and how close it is to its limits: a Karpenter NodePool's
    ``spec.limits`` next to ``status.resources`` (``cpu: "160"`` / ``cpu: "158"``)."""
    named = _POOL.search(message)
    pool = (named.group("pool") or named.group("group")) if named else ""
    limits: dict[str, tuple[str, str]] = {}
    used: dict[str, str] = {}
    section = ""
    for label, line in lines_of(obs):
        head = re.match(r"^\s*(limits|status|resources|requirements|spec|template)\s*:\s*$", line)
        if head:
            section = {"limits": "limits", "status": "status", "resources": "status"}.get(head.group(1), "")
            continue
        flat = re.match(r"^\s*(?:spec\.)?(limits|status\.resources)\.(cpu|memory)\s*:\s*\"?([\w.]+)\"?\s*$", line)
        if flat:  # a JSON print flattened: spec.limits.cpu: 1000 / status.resources.cpu: 998
            section = "limits" if flat.group(1) == "limits" else "status"
            line = f"  {flat.group(2)}: {flat.group(3)}"
        value = re.match(r"^\s+(cpu|memory|nvidia\.com/gpu)\s*:\s*\"?([\w.]+)\"?\s*$", line)
        if value and section == "limits":
            limits.setdefault(value.group(1), (value.group(2), _cite(label, line, value.group(2))))
        elif value and section == "status":
            used.setdefault(value.group(1), value.group(2))
    for resource in obs.resources:  # the NodePool read as an object (-o json/yaml)
        spec_limits = (resource.raw.get("spec") or {}).get("limits") or {}
        status = (resource.raw.get("status") or {}).get("resources") or {}
        if resource.kind == "NodePool" and (not pool or resource.name == pool) and isinstance(spec_limits, dict):
            for key, limit in spec_limits.items():
                limits[key] = (str(limit), resource.quote(str(key), str(limit)))
            used.update({k: str(v) for k, v in status.items()} if isinstance(status, dict) else {})
    where = f"NodePool {pool}" if pool else "the node pool"
    reached = [
        (f"{resource} {used[resource]} of its limit {limit}", cite)
        for resource, (limit, cite) in limits.items()
        if resource in used and quantity(limit) > 0 and quantity(used[resource]) >= 0.9 * quantity(limit)
    ]
    if reached:
        evidence.extend(cite for _, cite in reached)
        return (
            f"the node autoscaler cannot add a node: {where} has reached its limits "
            f"({'; '.join(text for text, _ in reached)}), so every instance type would exceed them"
        )
    if pool:
        return f"the node autoscaler cannot add a node: every instance type would exceed the limits of {where}"
    return ""


_WELL_KNOWN_KEYS = ("topology.kubernetes.io/zone", "topology.kubernetes.io/region", "kubernetes.io/hostname")
_LABEL_KEY = re.compile(r"(?P<key>(?:[a-z0-9][\w-]*\.)+[a-z]{2,}/[\w.-]+)\"?\s*(?:=|:\s*\")")


def missing_spread_key(obs: Observations) -> tuple[str, str, str] | None:
    """For "didn't match pod topology spread constraints (missing required label)": the topologyKey of a
    DoNotSchedule constraint that the printed node labels lack (only those constraints filter nodes), the line
    showing it, and the known label it is likely a typo of ("" when none is close)."""
    lines = list(lines_of(obs))
    node_keys = {m.group("key") for _, line in lines for m in _LABEL_KEY.finditer(line) if "topologyKey" not in line}
    constraints: list[tuple[str, str, bool]] = []  # key, cite, DoNotSchedule
    for at, (label, line) in enumerate(lines):
        found = re.search(r"\"?topologyKey\"?\s*[:=]\s*\"?([\w./-]+)", line)
        if not found:
            continue
        item = [text for lb, text in lines[max(0, at - 4) : at + 5] if lb == label]
        hard = any("DoNotSchedule" in text for text in item) and not any(
            "podAffinityTerm" in text or "ScheduleAnyway" in text for text in item
        )
        constraints.append((found.group(1), _cite(label, line, found.group(1)), hard))
    candidates = [c for c in constraints if c[2]] or constraints
    unknown = [c for c in candidates if c[0] not in node_keys] if node_keys else candidates
    if not unknown:
        return None
    key, cite, _ = unknown[-1]
    close = difflib.get_close_matches(key, sorted(node_keys | set(_WELL_KNOWN_KEYS)), n=1, cutoff=0.85)
    return key, cite, close[0] if close and close[0] != key else ""


_ZONE_KEYS = r"(?:topology\.kubernetes\.io/zone|failure-domain\.beta\.kubernetes\.io/zone|topology\.[\w.-]+/zone)"


def pinned_zones(obs: Observations) -> tuple[list[str], str] | None:
    """The zones a PersistentVolume's nodeAffinity pins it to, from any print of it (a jsonpath one-liner, a
    describe's ``Node Affinity`` block, YAML), and the line that shows them."""
    for label, line in lines_of(obs):
        if not re.search(_ZONE_KEYS, line):
            continue
        values = re.search(_ZONE_KEYS + r"[^\]]*?\"values\":\s*\[([^\]]*)\]", line)
        if values:
            zones = re.findall(r"\"([\w-]+)\"", values.group(1))
            if zones:
                return zones, _cite(label, line, zones[0])
        described = re.search(_ZONE_KEYS + r"\s+in\s+\[([^\]]*)\]", line)
        if described:
            return [z.strip() for z in described.group(1).split(",") if z.strip()], _cite(
                label, line, described.group(1)
            )
    return _pinned_zones_block(obs)


_VALUE_LINE = re.compile(r"^\s*(?:-\s+|\"|[\w.\[\]]*values\[\d+\]:\s*)\"?(?P<zone>[a-z]{2,}(?:-[a-z0-9]+)+)\"?,?\s*$")


def _pinned_zones_block(obs: Observations) -> tuple[list[str], str] | None:
    """The same printed over several lines: YAML (``- key: ...zone`` / ``values:`` / ``- us-east-1a``), pretty
    JSON, or flattened keys (``...matchExpressions[0].values[0]: us-east-1a``)."""
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for at, line in enumerate(lines):
            if not re.search(_ZONE_KEYS, line) or not re.search(r"\bkey\b", line):
                continue
            zones: list[str] = []
            cite = ""
            for near in lines[at + 1 : at + 8]:
                if re.search(r"\bkey\b", near):
                    break
                value = _VALUE_LINE.match(near)
                if value:
                    zones.append(value.group("zone"))
                    cite = cite or _cite(label, near, value.group("zone"))
            if zones:
                return zones, cite
    return None


def node_zones(obs: Observations) -> dict[str, str]:
    """Node -> zone from ``kubectl get nodes -L topology.kubernetes.io/zone`` (a ZONE column)."""
    zones: dict[str, str] = {}
    for _, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        column = None
        for line in lines:
            cells = line.split()
            if cells and cells[0] == "NAME" and "ZONE" in cells:
                column = cells.index("ZONE")
                continue
            if column is not None and len(cells) > column:
                zones[cells[0]] = cells[column]
            elif column is not None:
                column = None
    return zones


def not_ready_nodes(obs: Observations) -> list[str]:
    """Nodes printed NotReady (a ``get nodes`` row or a Ready condition that is not True)."""
    names = [
        n.name for n in obs.nodes if any(c.type == "Ready" and c.status in ("False", "Unknown") for c in n.conditions)
    ]
    for _, line in lines_of(obs):
        cells = line.split()
        if len(cells) >= 2 and cells[1].startswith("NotReady") and cells[0] not in names:
            names.append(cells[0])
    return names


def host_ports(obs: Observations) -> list[str]:
    """Host ports a pod spec asks for: ``hostPort: 80`` (YAML/JSON) or describe's ``Host Ports: 80/TCP, 443/TCP``."""
    ports: set[str] = set()
    for _, line in lines_of(obs):
        found = re.search(r"\"?hostPort\"?\s*:\s*(\d+)", line)
        if found:
            ports.add(found.group(1))
        described = re.match(r"^\s*Host Ports?:\s+(.+)$", line)
        if described:
            ports.update(p for p in re.findall(r"\b(\d+)/(?:TCP|UDP|SCTP)", described.group(1)) if p != "0")
    return sorted(ports, key=int)


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


def printed_selector(obs: Observations) -> tuple[dict[str, str], str] | None:
    """A nodeSelector printed by ``-o jsonpath='{.spec...nodeSelector}'`` (one JSON object line)."""
    for label, lines, command in [(t.label, t.lines, t.command) for t in obs.texts] + [
        (d.label, d.lines, d.command) for d in obs.logs
    ]:
        if "nodeselector" not in command.lower():
            continue
        for line in lines:
            selector = string_map_line(line)
            if selector:
                return selector, f"{label} {line.strip()}"
    return None


def label_values(obs: Observations, key: str) -> list[str]:
    """The values a ``kubectl get nodes -L <key>`` column shows for a label (column named after its last part)."""
    column_name = key.rsplit("/", 1)[-1].upper()
    values: list[str] = []
    for _, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        header: list[str] | None = None
        for line in lines:
            cells = line.split()
            if cells and cells[0] == "NAME" and column_name in cells:
                header = cells
                continue
            if header is None:
                continue
            if not cells or cells[0] == "NAME":
                header = None
                continue
            index = header.index(column_name)
            if len(cells) == len(header) and cells[index] not in values:
                values.append(cells[index])
    return values
