"""metrics-server timing out on some kubelets' port 10250: those nodes' pods have no resource metrics.

metrics-server reads every kubelet's ``/metrics/resource`` on port 10250 (kubernetes-sigs/metrics-server, "Failed
to scrape node"). When the nodes of one group time out while the others answer, the firewall or security group of
those nodes does not admit metrics-server's traffic to 10250 (a new node group whose security group only admits
the control plane is the usual case); HPAs over pods on those nodes read ``<unknown>`` and ``kubectl top`` fails.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.datastore_text import text_lines
from engine.facts import Observations
from engine.findings import Finding, workload_of

_SCRAPE_TIMEOUT = re.compile(
    r"Failed to scrape node.*?https://(?P<ip>[\d.]+):10250/[^\n]*?(?:context deadline exceeded|i/o timeout|no route to host|Client\.Timeout)"
    r"[^\n]*?node=\\?\"?(?P<node>[\w.-]+)",
    re.IGNORECASE,
)
_GROUPISH = re.compile(r"^(?=.*[a-z])(?=.*-)[\w.-]+$")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = list(text_lines(obs))
    failing: dict[str, str] = {}
    cite = ""
    for label, line in lines:
        match = _SCRAPE_TIMEOUT.search(line)
        if match:
            failing.setdefault(match.group("node"), match.group("ip"))
            cite = cite or f"{label} {line.strip()[:300]}"
    if not failing:
        return []
    group = _shared_group(lines, set(failing))
    pods = sorted(
        {workload_of(p.name) for p in obs.pods if p.node in failing}
        | {  # a pod row (`get pods -o wide`, awk'd) that names one of those nodes
            workload_of(cells[0])
            for _, line in lines
            if len(cells := line.split()) > 1
            and cells[0] not in failing
            and failing.keys() & set(cells[1:])
            and re.match(r"^[a-z0-9][a-z0-9-]*-[a-z0-9]{5}$", cells[0])
        }
    )
    where = f" (node group {group})" if group else ""
    nodes = ", ".join(sorted(failing)[:4]) + (f" and {len(failing) - 4} more" if len(failing) > 4 else "")
    return [
        Finding(
            kind="metrics_server_kubelet_unreachable",
            subject=f"nodegroup/{group}" if group else f"node/{sorted(failing)[0]}",
            role="cause",
            title=(
                f"metrics-server cannot reach the kubelet port 10250 on {nodes}{where} (its scrapes time out), so pods there have no resource metrics "
                f"and their HPAs read <unknown>: the nodes' security group or firewall does not admit metrics-server to tcp/10250"
            ),
            weight=92,
            evidence=[cite],
            workload=group or sorted(failing)[0],
            recommendations=[
                rec(
                    "high",
                    f"Allow tcp/10250 into the nodes{where} from the nodes/pods running metrics-server (security group or firewall rule), then check kubectl top pods",
                )
            ],
            affected=pods,
            related=pods,
        )
    ]


def _shared_group(lines: list[tuple[str, str]], failing: set[str]) -> str | None:
    """A label value every failing node's row shows and no other node's row in the same table does (a node group)."""
    rows: dict[str, list[set[str]]] = {}
    others: dict[str, set[str]] = {}
    for label, line in lines:
        cells = line.split()
        if not cells:
            continue
        if cells[0] in failing:
            rows.setdefault(label, []).append(set(cells[1:]))
        elif re.match(r"^(?:ip-|[\w-]+-node|gke-|aks-)", cells[0]) and len(cells) > 3:
            others.setdefault(label, set()).update(cells[1:])
    for label, sets in rows.items():
        if len(sets) < len(failing) or label not in others:
            continue
        common = set.intersection(*sets) - others[label]
        names = sorted(token for token in common if _GROUPISH.match(token) and token not in failing)
        if len(names) == 1:
            return names[0]
    return None
