"""Which nodes a DaemonSet's node selection leaves out, and by which label.

A DaemonSet runs one pod on every node its ``nodeSelector`` and required ``nodeAffinity`` admit
(kubernetes.io/docs/concepts/workloads/controllers/daemonset/#running-pods-on-select-nodes); a node pool added
later with another value for that label (``kubernetes.io/arch=arm64``, a new ``pool``) gets no pod, and the
DaemonSet still reports itself complete (DESIRED counts only the admitted nodes). The node labels are read from
``kubectl get nodes -L key`` columns, ``--show-labels`` and Node objects.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.facts import Observations, ResourceFact
from engine.parsers.table import cells, split_tables

# commands are lowercased: "-l key" without "=" is -L (a selector always has "=")
_LABEL_FLAGS = re.compile(r"(?:^|\s)(?:-L|-l|--label-columns)[= ]([\w./-]+(?:,[\w./-]+)*)(?=\s|$)")
_NODES_COMMAND = re.compile(r"\bget\s+(?:no|node|nodes)\b")


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def requirements(ds: ResourceFact) -> list[tuple[str, str, list[str]]]:
    """(label key, operator, values) the DaemonSet's pod template requires of a node."""
    spec = _d(_d(_d(ds.raw.get("spec")).get("template")).get("spec"))
    found = [(str(k), "In", [str(v)]) for k, v in _d(spec.get("nodeSelector")).items()]
    required = _d(
        _d(_d(spec.get("affinity")).get("nodeAffinity")).get("requiredDuringSchedulingIgnoredDuringExecution")
    )
    for term in required.get("nodeSelectorTerms") or []:
        for expression in _d(term).get("matchExpressions") or []:
            expression = _d(expression)
            if expression.get("key") and expression.get("operator") in ("In", "NotIn"):
                values = [str(v) for v in expression.get("values") or []]
                found.append((str(expression["key"]), str(expression["operator"]), values))
    return found


def node_labels(obs: Observations) -> dict[str, dict[str, str]]:
    """Node name -> the labels printed for it."""
    labels: dict[str, dict[str, str]] = {}
    for resource in obs.resources:
        if resource.kind == "Node":
            labels.setdefault(resource.name, {}).update(
                {str(k): str(v) for k, v in _d(_d(resource.raw.get("metadata")).get("labels")).items()}
            )
    for text in obs.texts:
        command = text.command or ""
        if not _NODES_COMMAND.search(command):
            continue
        keys = [k for m in _LABEL_FLAGS.finditer(command) for k in m.group(1).split(",")]
        for names, rows, starts in split_tables("\n".join(text.lines)):
            if "NAME" not in names:
                continue
            for row in rows:
                values = dict(zip(names, cells(row, starts), strict=False))
                node = labels.setdefault(values["NAME"], {})
                for key in keys:
                    value = values.get(key.rsplit("/", 1)[-1].upper())
                    if value and value != "<none>":
                        node[key] = value
                for item in (values.get("LABELS") or "").split(","):
                    key, _, value = item.partition("=")
                    if key and value:
                        node[key] = value
    return labels


def excluded(obs: Observations, name: str) -> str | None:
    """': its nodeAffinity requires kubernetes.io/arch In (amd64), and node-g1, node-g2 have arm64' or None."""
    ds = next((r for r in obs.resources if r.kind == "DaemonSet" and r.name == name), None)
    if ds is None:
        return None
    wanted = requirements(ds)
    labels = node_labels(obs)
    for key, operator, values in wanted:
        left = {
            node: have.get(key, "<none>")
            for node, have in labels.items()
            if key in have or operator == "In"
            if (have.get(key) in values) != (operator == "In")
        }
        known = [node for node, have in labels.items() if key in have]
        if left and known:
            shown = ", ".join(f"{node} ({key}={value})" for node, value in sorted(left.items())[:4])
            return (
                f": its node selection requires {key} {operator} ({', '.join(values)}), so it skips {len(left)} node(s) "
                f"that have another value: {shown}"
            )
    return None
