"""Metrics root-cause accuracy on simulated incidents: the engine beside BARO, by fault kind and by convention.

Each case (tests/support/metrics_sim: a generated microservice system, one injected fault, an on-call question
anchored on a stated time) is backfilled into a real Prometheus (Debian ``prometheus``/``promtool``;
scripts/install-prometheus.sh) served on a loopback port. The engine investigates through its real Prometheus
connector, as a black box: ``investigate(InvestigationRequest(message=question, now=..., data_sources={"prometheus":
{"url": ...}}))``. BARO (tests/support/metrics_sim/baro.py) ranks components from the same Prometheus with the
stated time as its anomaly time. Scoring (tests/support/metrics_sim/scoring.py): top-1 = the first component the
root cause names is the true one; top-3 = the true one is named by one of the first three non-refuted hypotheses
(for BARO: its first three components).

Run:
  .venv/bin/python bench/metrics_rca_bench.py                  # the blind split (held out: never tune on it)
  .venv/bin/python bench/metrics_rca_bench.py --split dev      # the development split
  .venv/bin/python bench/metrics_rca_bench.py --scale          # one 50-component case, 1 h at 15 s: engine time
Options: --limit N (first N cases), --convention NAME, --fault KIND, --no-baro, --no-engine, --verbose,
--cache-dir DIR (keep and reuse the backfilled TSDBs), --prepare-only (with --cache-dir: backfill, run nothing).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import InvestigationContext, InvestigationRequest, investigate
from tests.support.metrics_sim import baro
from tests.support.metrics_sim.blind import blind_cases
from tests.support.metrics_sim.cases import Case, CaseSpec, build_case, dev_cases
from tests.support.metrics_sim.faults import FaultKind
from tests.support.metrics_sim.loading import LoadedCase, prepare_tsdb, serve_case, serve_prepared
from tests.support.metrics_sim.prometheus import Binaries, find_binaries
from tests.support.metrics_sim.scoring import score

BARO_BASELINE_S = 3600.0  # BARO reads up to an hour before the anomaly time (all the data there is)


@dataclass
class Outcome:
    case: Case
    engine_top1: bool | None
    engine_top3: bool | None
    engine_seconds: float | None
    engine_named: str | None
    baro_top1: bool | None
    baro_top3: bool | None
    baro_named: str | None
    rcaeval_top1: bool | None  # BARO as RCAEval's baro() scores (signed, constant columns dropped)
    rcaeval_top3: bool | None
    load_seconds: float


def _cases(split: str) -> list[Case]:
    if split == "dev":
        return dev_cases()
    return blind_cases()


def run_engine(loaded: LoadedCase) -> tuple[bool, bool, float, str | None, str]:
    case = loaded.case
    request = InvestigationRequest(
        message=case.question, now=case.now, data_sources=loaded.data_sources, context=InvestigationContext()
    )
    started = time.perf_counter()
    report = investigate(request)
    elapsed = time.perf_counter() - started
    result = score(report, case.root_cause, case.components)
    description = report.root_cause.description if report.root_cause is not None else ""
    return result.top1, result.top3, elapsed, result.named, description


def run_baro(loaded: LoadedCase) -> tuple[bool, bool, str | None, bool, bool]:
    """BARO as the brief defines it (|z|), then as RCAEval's function scores it, on the same columns."""
    case = loaded.case
    anomaly = case.stated.timestamp()
    times, cols = baro.columns(
        loaded.url,
        case.components,
        start=anomaly - BARO_BASELINE_S,
        end=case.now.timestamp(),
        interval=case.spec.interval,
    )
    ranked = [r.component for r in baro.rank(times, cols, anomaly)]
    signed = [r.component for r in baro.rank(times, cols, anomaly, rcaeval=True)]
    return (
        bool(ranked) and ranked[0] == case.root_cause,
        case.root_cause in ranked[:3],
        ranked[0] if ranked else None,
        bool(signed) and signed[0] == case.root_cause,
        case.root_cause in signed[:3],
    )


def _pct(values: list[bool | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "   -  "
    return f"{100 * sum(known) / len(known):5.1f}%"


def _table(title: str, outcomes: list[Outcome], key: str) -> None:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[getattr(o.case.spec, key) if key != "fault" else o.case.fault.kind.value].append(o)
    groups["ALL"] = outcomes
    print(
        f"\n{title:<20} {'n':>3}  {'engine top1':>11} {'top3':>7}   {'BARO top1':>9} {'top3':>7}   "
        f"{'BARO(RCAEval) top1':>18} {'top3':>7}"
    )
    for name, group in sorted(groups.items(), key=lambda kv: (kv[0] == "ALL", kv[0])):
        print(
            f"{name:<20} {len(group):>3}  {_pct([o.engine_top1 for o in group]):>11} "
            f"{_pct([o.engine_top3 for o in group]):>7}   {_pct([o.baro_top1 for o in group]):>9} "
            f"{_pct([o.baro_top3 for o in group]):>7}   {_pct([o.rcaeval_top1 for o in group]):>18} "
            f"{_pct([o.rcaeval_top3 for o in group]):>7}"
        )


def bench(args: argparse.Namespace) -> None:
    binaries = find_binaries()
    cases = _cases(args.split)
    if args.convention:
        cases = [c for c in cases if c.convention == args.convention]
    if args.fault:
        cases = [c for c in cases if c.fault.kind.value == args.fault]
    if args.limit:
        cases = cases[: args.limit]
    print(f"split={args.split}: {len(cases)} cases")
    outcomes: list[Outcome] = []
    if args.prepare_only and not args.cache_dir:
        raise SystemExit("--prepare-only needs --cache-dir")
    # A worker process generates and backfills the next cases while this one investigates the current case. With
    # --cache-dir the prepared TSDBs are kept (and reused: a case's data depend only on its spec).
    with (
        tempfile.TemporaryDirectory(prefix="metrics-rca-bench-") as tmp,
        ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool,
    ):
        root = args.cache_dir or tmp
        futures: dict[int, Future[str]] = {}

        def ahead(k: int) -> None:
            if k < len(cases) and k not in futures:
                futures[k] = pool.submit(prepare_tsdb, cases[k].spec, f"{root}/{cases[k].id}", binaries.promtool)

        for index, case in enumerate(cases):
            ahead(index)
            ahead(index + 1)
            started = time.perf_counter()
            data_dir = futures.pop(index).result()
            if args.prepare_only:
                print(f"prepared {case.id} in {time.perf_counter() - started:.1f} s", flush=True)
                continue
            outcomes.append(_one(case, data_dir, binaries, args, started))
            if not args.cache_dir:
                shutil.rmtree(f"{root}/{case.id}", ignore_errors=True)
    if args.prepare_only:
        return
    _table("by fault kind", outcomes, "fault")
    _table("by convention", outcomes, "convention")
    times = sorted(o.engine_seconds for o in outcomes if o.engine_seconds is not None)
    if times:
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(
            f"\nengine time per investigation: median {statistics.median(times):.2f} s, p95 {p95:.2f} s "
            f"(n={len(times)})"
        )


def _one(case: Case, data_dir: str, binaries: Binaries, args: argparse.Namespace, started: float) -> Outcome:
    """Serve one prepared case, run the engine and BARO on it, print a line."""
    with serve_prepared(case, data_dir, binaries=binaries) as loaded:
        load = time.perf_counter() - started
        e1 = e3 = None
        e_time: float | None = None
        e_named: str | None = None
        description = ""
        if not args.no_engine:
            try:
                e1, e3, e_time, e_named, description = run_engine(loaded)
            except Exception:  # a crash is a miss, and is shown
                e1 = e3 = False
                description = "ENGINE ERROR: " + traceback.format_exc(limit=3).replace("\n", " | ")
        b1 = b3 = r1 = r3 = None
        b_named = None
        if not args.no_baro:
            b1, b3, b_named, r1, r3 = run_baro(loaded)
    mark = {True: "Y", False: "-", None: " "}
    timing = f"{e_time:5.2f}s" if e_time is not None else "   -  "
    print(
        f"{case.id:<44} truth={case.root_cause:<22} engine {mark[e1]}{mark[e3]} {timing} "
        f"named={e_named!s:<22} BARO {mark[b1]}{mark[b3]} named={b_named!s:<22} wait={load:4.1f}s",
        flush=True,
    )
    if args.verbose:
        print(f"    Q: {case.question}\n    A: {description[:400]}")
    return Outcome(case, e1, e3, e_time, e_named, b1, b3, b_named, r1, r3, load)


def scale(args: argparse.Namespace) -> None:
    """One 50-component case with every series of its convention over 1 h at 15 s: the engine's time."""
    spec = CaseSpec("scale-1", args.convention or "istio", FaultKind.CPU_HOG, 50, 15.0, baseline_s=45 * 60)
    case = build_case(spec)
    started = time.perf_counter()
    with serve_case(case, binaries=find_binaries()) as loaded:
        span = (case.now.timestamp() - case.start) / 60
        series = httpx.get(
            f"{loaded.url}/api/v1/series",
            params={"match[]": '{__name__=~".+"}', "start": case.start, "end": case.now.timestamp()},
            timeout=120,
        ).json()["data"]
        print(f"scale: {len(series):,} series")
        print(
            f"scale: {case.convention}, {len(case.components)} components, {span:.0f} min of data at 15 s, "
            f"loaded in {time.perf_counter() - started:.1f} s"
        )
        runs = []
        for _ in range(args.runs):
            e1, e3, elapsed, named, _ = run_engine(loaded)
            runs.append(elapsed)
            print(f"  investigation: {elapsed:.2f} s (top1={e1}, top3={e3}, named={named}, truth={case.root_cause})")
        print(f"engine time at scale: median {statistics.median(runs):.2f} s, max {max(runs):.2f} s (target < 2 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "blind"), default="blind")
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="investigations in --scale mode")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--convention", choices=("istio", "otel", "micrometer", "red"))
    parser.add_argument("--fault", choices=[k.value for k in FaultKind])
    parser.add_argument("--no-baro", action="store_true")
    parser.add_argument("--no-engine", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--cache-dir", help="keep prepared TSDBs here and reuse them on the next run")
    parser.add_argument("--prepare-only", action="store_true", help="only generate and backfill (needs --cache-dir)")
    args = parser.parse_args()
    if args.scale:
        scale(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
