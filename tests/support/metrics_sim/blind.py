"""The blind split: held out from whoever tunes the engine's metrics analysis.

ENGINE AUTHORS: do not open, import or run this module except through ``bench/metrics_rca_bench.py``, and never
tune anything on its cases or results. Its seeds are disjoint from the dev split's (``dev-1000``...).
"""

from __future__ import annotations

from tests.support.metrics_sim.cases import Case, CaseSpec, build_case, split_specs

BLIND_COUNT = 64  # every convention x fault kind twice
BLIND_PREFIX = "blind-"
BLIND_BASE = 7300


def blind_specs() -> list[CaseSpec]:
    return split_specs(BLIND_PREFIX, BLIND_COUNT, BLIND_BASE)


def blind_cases() -> list[Case]:
    return [build_case(s) for s in blind_specs()]
