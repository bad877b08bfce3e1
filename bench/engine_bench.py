"""Engine benchmark: incident-corpus accuracy (dev and blind, by category), scenario accuracy, latency,
log-analysis throughput, peak memory on a big request.

Run: .venv/bin/python bench/engine_bench.py   (``--corpus-only`` stops after the corpus figures)

The corpus figures use the corpus scorer's own ``load_cases``/``check`` (tests/engine/corpus/score.py). Only
figures are printed for the blind part, never a case, so running the bench does not expose it.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate
from engine.analysis_context import AnalysisContext
from engine.analyzers.log_signatures import analyze_doc
from engine.facts import LogDoc
from engine.logs.index import doc_signals
from tests.engine.corpus.score import PARTS, check, load_cases
from tests.engine.part2 import test_telemetry_scenarios as part2
from tests.engine.scenario_loader import all_scenarios, load, problems

LATENCY_TARGET_SECONDS = 0.3  # median deterministic investigation on the corpus


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def corpus_figures() -> None:
    """Accuracy per category and overall for each part of the corpus, and time per investigation."""
    for part in PARTS:
        cases = load_cases(part)
        if not cases:
            print(f"corpus {part}: no cases")
            continue
        passed: dict[str, list[bool]] = {}
        latencies: list[float] = []
        for case in cases:
            start = time.perf_counter()
            try:
                report = investigate(case.request())
                ok = not check(case, report)
            except Exception:  # an engine exception fails the case, as in the scorer
                ok = False
            latencies.append(time.perf_counter() - start)
            passed.setdefault(case.category, []).append(ok)
        for category in sorted(passed):
            results = passed[category]
            print(f"  {part:5} {category:28} {sum(results):3}/{len(results):<3} = {sum(results) / len(results):6.1%}")
        total = sum(len(r) for r in passed.values())
        good = sum(sum(r) for r in passed.values())
        median = statistics.median(latencies)
        print(
            f"corpus {part}: {good}/{total} = {good / total:.1%}   seconds per investigation: median {median:.4f} "
            f"p95 {percentile(latencies, 0.95):.4f} (target median < {LATENCY_TARGET_SECONDS})"
        )


def generated_log(lines: int) -> list[str]:
    templates = (
        "2024-01-15T14:{m:02d}:{s:02d}.{ms:03d}Z INFO  [exec-{t}] c.a.p.Api - GET /v1/charges/{n} 200 {ms}ms",
        "2024-01-15T14:{m:02d}:{s:02d}.{ms:03d}Z DEBUG [pool-{t}] c.a.p.Cache - cache hit key=user:{n}",
        "2024-01-15T14:{m:02d}:{s:02d}.{ms:03d}Z WARN  [exec-{t}] c.a.p.Api - slow request took {ms}ms",
        "2024-01-15T14:{m:02d}:{s:02d}.{ms:03d}Z ERROR [exec-{t}] c.a.p.Db - Connection to payments-db:5432 "
        "refused. Check that the hostname and port are correct.",
    )
    out = []
    for i in range(lines):
        template = templates[0 if i % 10 < 7 else (1 if i % 10 < 9 else (2 if i % 20 == 9 else 3))]
        out.append(template.format(m=(i // 60000) % 60, s=(i // 1000) % 60, ms=i % 1000, t=i % 200, n=i))
    return out


def main() -> None:
    corpus_figures()
    if "--corpus-only" in sys.argv:
        return
    latencies, correct = [], 0
    paths = all_scenarios()
    for path in paths:
        scenario = load(path)
        start = time.perf_counter()
        report = investigate(scenario.request)
        latencies.append(time.perf_counter() - start)
        correct += not problems(scenario, report)
    part2_correct = 0
    for path in part2.SCENARIOS:
        data = part2.load_part2(path)
        start = time.perf_counter()
        report = investigate(part2.request_for(data))
        latencies.append(time.perf_counter() - start)
        part2_correct += not part2.scenario_problems(data, report)
    p95 = percentile(latencies, 0.95)
    total = len(paths)
    print(f"scenarios (pods, logs, attachments): {total}  accuracy: {correct}/{total} = {correct / total:.1%}")
    total2 = len(part2.SCENARIOS)
    print(f"scenarios (telemetry, deploys, dependencies): {total2}  accuracy: {part2_correct}/{total2}")
    print(f"seconds per investigation: median {statistics.median(latencies):.4f}  p95 {p95:.4f}")

    lines = generated_log(1_000_000)
    ctx = AnalysisContext(now=datetime(2024, 1, 15, 15, tzinfo=UTC), window=timedelta(hours=6))
    start = time.perf_counter()
    findings = analyze_doc(doc_signals(LogDoc(label="[attachment:bench.log]", lines=lines)), ctx)
    elapsed = time.perf_counter() - start
    print(
        f"log analysis: {len(lines):,} lines in {elapsed:.2f} s = {len(lines) / elapsed:,.0f} lines/s "
        f"({len(findings)} findings)"
    )
    del lines

    chunk = "\n".join(generated_log(2_000))
    per = (16 * 1024 * 1024) // 50
    content = (chunk * (per // len(chunk) + 1))[:per]
    attachments = [Attachment(name=f"part{i}.log", content=content) for i in range(50)]
    request = InvestigationRequest(message="payments errors", context=InvestigationContext(attachments=attachments))
    tracemalloc.start()
    start = time.perf_counter()
    investigate(request)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"50 attachments / 16 MiB: {elapsed:.2f} s, peak traced memory {peak / 2**20:.0f} MiB "
        f"(process peak RSS {rss:.0f} MiB, including the 1M-line run above)"
    )

    from bench.prometheus_bench import run as prometheus_run

    prometheus_run()  # 50 services x 24 h at 15 s through the Prometheus connector; target: median < 2 s


if __name__ == "__main__":
    main()
