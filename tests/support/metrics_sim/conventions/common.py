"""What several conventions share: a pod's share of its component's traffic, nodes, restart counts."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.support.metrics_sim.latent import Pod, Sim, State


def serving(pod: Pod) -> Callable[[int], bool]:
    """Whether the pod's process runs at a cell (its series exist)."""
    return lambda i: pod.alive(i) and i not in pod.down


def pod_fractions(st: State, cells: int) -> dict[str, list[float]]:
    """Each pod's share of the component's traffic per cell (pods that are down or gone get none)."""
    out: dict[str, list[float]] = {p.name: [0.0] * cells for p in st.pods}
    for i in range(cells):
        live = [p for p in st.pods if p.alive(i) and i not in p.down]
        total = sum(p.share for p in live)
        for p in live:
            out[p.name][i] = p.share / total
    return out


def restart_counts(pod: Pod, cells: int, before: int) -> list[float]:
    """kube-state-metrics' cumulative restart count of the pod's container per cell."""
    out, n, marks = [], float(before), set(pod.restarts)
    for i in range(cells):
        if i in marks:
            n += 1
        out.append(n)
    return out


def node_names(rng: random.Random, count: int) -> list[str]:
    style = rng.choice(("eks", "gke", "aks"))
    if style == "eks":
        return [f"ip-10-0-{rng.randint(0, 63)}-{rng.randint(2, 254)}.ec2.internal" for _ in range(count)]
    if style == "gke":
        pool = "".join(rng.choice("0123456789abcdef") for _ in range(8))
        return [
            f"gke-prod-default-pool-{pool}-{''.join(rng.choice('abcdefghjkmnpqrstvwxz') for _ in range(4))}"
            for _ in range(count)
        ]
    return [f"aks-nodepool1-{rng.randint(10_000_000, 99_999_999)}-vmss{k:06x}" for k in range(count)]


def place_pods(sim: Sim, rng: random.Random) -> dict[str, str]:
    """A node for every pod (about six pods a node)."""
    pods = [p.name for st in sim.states.values() for p in st.pods]
    nodes = node_names(rng, max(2, len(pods) // 6))
    return {p: rng.choice(nodes) for p in pods}


def scaled(values: list[float], factor: list[float] | float) -> list[float]:
    if isinstance(factor, float | int):
        return [v * factor for v in values]
    return [v * f for v, f in zip(values, factor, strict=True)]
