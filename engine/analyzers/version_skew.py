"""Kubernetes version skew after an upgrade: the node group (or nodes) left on the old kubelet minor version.

runbooks.prometheus-operator.dev/runbooks/kubernetes/kubeversionmismatch/: KubeVersionMismatch fires while
components run different semantic versions, the usual reason being an upgrade that finished for the control
plane and most node groups but not all (a node group whose update was never started or failed). A node listing
with each node's kubelet version (``kubectl get nodes``, ``-o wide``, custom columns) shows which nodes lag, and a
node-group/pool column or label says which group to upgrade.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections import Counter, defaultdict

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt
from engine.parsers.table import cells, split_tables

_ALERTS = {"KubeVersionMismatch", "KubeletVersionSkew"}
_ASKS = re.compile(r"\b(?:version(?:s)? (?:mismatch|skew)|upgrad(?:e|ed|ing)|still on (?:v?1\.\d+|the old))\b", re.I)
_VERSION = re.compile(r"^v?(?P<minor>1\.\d{1,2})\.\d+(?:[-+][\w.+-]*)?$")
_GROUP_COLUMNS = re.compile(
    r"^(?:NG|NODEGROUP|NODE-?GROUP|NODE_GROUP|NODEPOOL|NODE-?POOL|POOL|AGENTPOOL|GKE-NODEPOOL|INSTANCE-GROUP)$", re.I
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    question = ctx.question
    alert = question.alert if question else None
    if alert not in _ALERTS and not (question and _ASKS.search(question.message)):
        return []
    rows: list[tuple[str, str, str | None, str]] = []  # node, minor, group, cite
    sources: dict[str, list[str]] = defaultdict(list)
    for text in obs.texts:
        sources[text.label].extend(text.lines)
    for doc in obs.logs:
        if doc.label not in sources:
            sources[doc.label].extend(doc.lines)
    for label, lines in sources.items():
        for names, table_rows, starts in split_tables("\n".join(lines)):
            if "NAME" not in names:
                continue
            version_at = next(
                (i for i, n in enumerate(names) if n == "VERSION" or n.endswith("KUBELET") or n == "KUBELET"), None
            )
            if version_at is None:
                continue
            group_at = next((i for i, n in enumerate(names) if _GROUP_COLUMNS.match(n)), None)
            for row in table_rows:
                values = cells(row, starts)
                if len(values) <= version_at:
                    continue
                found = _VERSION.match(values[version_at])
                if not found:
                    continue
                group = values[group_at] if group_at is not None and len(values) > group_at else None
                rows.append(
                    (
                        values[names.index("NAME")],
                        found.group("minor"),
                        group or None,
                        f"{label} {excerpt(row.strip())}",
                    )
                )
    minors = Counter(minor for _, minor, _, _ in rows)
    if len(minors) < 2:
        return []
    newest = max(minors, key=lambda m: tuple(int(x) for x in m.split(".")))
    behind = [r for r in rows if r[1] != newest]
    groups = sorted({g for _, _, g, _ in behind if g})
    lag = sorted({m for _, m, _, _ in behind}, key=lambda m: tuple(int(x) for x in m.split(".")))
    if groups:
        other = {g for _, m, g, _ in rows if m == newest and g}
        if set(groups) & other:
            groups = []  # a group with nodes on both versions: name the nodes (a rolling update in progress or stuck)
    if groups:
        which = f"node group{'s' if len(groups) > 1 else ''} {', '.join(groups)}"
        fix = f"Upgrade {which} to {newest} (aws eks update-nodegroup-version / gcloud container node-pools upgrade / az aks nodepool upgrade), and check why its update was not started or failed"
    else:
        names = [n for n, _, _, _ in behind]
        which = f"node{'s' if len(names) > 1 else ''} {', '.join(names[:4])}{' and more' if len(names) > 4 else ''}"
        fix = f"Upgrade or replace {which} so their kubelet runs {newest}"
    title = (
        f"{which} still run{'s' if len(behind) == 1 or (groups and len(groups) == 1) else ''} kubelet {'/'.join(lag)} while the rest of the cluster runs {newest} "
        f"({len(behind)} of {len(rows)} nodes): the upgrade to {newest} skipped {'it' if (groups and len(groups) == 1) or len(behind) == 1 else 'them'}, so the versions differ"
    )
    return [
        Finding(
            kind="version_skew",
            subject=f"nodegroup/{groups[0]}" if groups else f"node/{behind[0][0]}",
            role="cause",
            title=title,
            weight=86,
            evidence=[cite for _, _, _, cite in behind[:3]],
            workload=groups[0] if groups else behind[0][0],
            recommendations=[rec("high", fix)],
            affected=groups or [n for n, _, _, _ in behind[:4]],
        )
    ]
