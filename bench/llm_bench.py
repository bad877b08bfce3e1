"""LLM mode: what IncidentFox itself adds to an investigation beyond the model's own latency.

A loopback model (the tests' stand-in, speaking the OpenAI Chat Completions protocol through the real openai
client) answers at once, so the figures are the engine's overhead: briefing, redaction, the agent loop, the
thread hand-off of tool calls, output validation. Compared with the same investigation in deterministic mode.

Run: .venv/bin/python bench/llm_bench.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate
from tests.engine.llm.model_standin import API_KEY, Call, Turn, final, model_server, report

CRASH_LOG = (
    "2024-01-15T10:00:00Z INFO boot\n"
    "2024-01-15T10:00:01Z ERROR dial postgres://payments:Sup3rS3cret@payments-db:5432 refused\n"
    "2024-01-15T10:00:02Z FATAL environment variable API_TOKEN is not set\n"
) * 200
WRITTEN = report("API_TOKEN is not set", ["[attachment:app.log] FATAL environment variable API_TOKEN is not set"])


def request(url: str | None, *, demo: bool) -> InvestigationRequest:
    llm = {"provider": "openai_compatible", "model": "bench", "base_url": f"{url}/v1", "api_key": API_KEY}
    return InvestigationRequest(
        message="why does payments crash?",
        context=InvestigationContext(service="payments", attachments=[Attachment(name="app.log", content=CRASH_LOG)]),
        data_sources={"demo": {}} if demo else {},
        llm=llm if url else None,
    )


def timed(runs: int, script: list[Turn] | None, *, demo: bool) -> list[float]:
    times = []
    for _ in range(runs):
        if script is None:
            started = time.perf_counter()
            investigate(request(None, demo=demo))
            times.append(time.perf_counter() - started)
            continue
        with model_server(script) as model:  # its shutdown is not timed
            started = time.perf_counter()
            investigate(request(model.url, demo=demo))
            times.append(time.perf_counter() - started)
    return times


def line(label: str, times: list[float], base: list[float] | None = None) -> str:
    median = statistics.median(times)
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    extra = f"  (+{(median - statistics.median(base)) * 1000:6.1f} ms over deterministic)" if base else ""
    return f"{label:52s} median {median * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    started = time.perf_counter()
    timed(1, [final(WRITTEN)], demo=False)  # imports pydantic-ai and the openai client once per process
    print(f"first LLM-mode run in a fresh process (imports included): {(time.perf_counter() - started):.2f} s")
    tools = [[Call("list_pods", {"params": {"namespace": "shop"}})] for _ in range(3)]
    for demo, label in ((False, "attachment only"), (True, "attachment + demo data sources")):
        base = timed(args.runs, None, demo=demo)
        print(line(f"deterministic, {label}", base))
        print(line(f"LLM mode, 1 model turn, {label}", timed(args.runs, [final(WRITTEN)], demo=demo), base))
        if demo:
            print(
                line(
                    f"LLM mode, 3 tool calls + answer, {label}",
                    timed(args.runs, [*tools, final(WRITTEN)], demo=demo),
                    base,
                )
            )


if __name__ == "__main__":
    main()
