"""What a team's MCP tool costs a run: listing a server's tools and calling one, against the loopback MCP server
the tests use (the ``mcp`` SDK's MCPServer over streamable HTTP), with no egress and through the pinned egress
transport (``incidentfox_web/egress.py``). Each listing and each call is a session of its own, as in a run.

    .venv/bin/python bench/mcp_bench.py [--rounds 20]

Prints the median and 90th percentile of a listing and of a call, per path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")
os.environ["EGRESS_ALLOW_LOOPBACK"] = "true"  # the bench server is on loopback

import django  # noqa: E402

django.setup()

from engine.connectors.http import Egress  # noqa: E402
from engine.connectors.mcp import McpToolbox  # noqa: E402
from engine.models import McpServerSettings  # noqa: E402
from incidentfox_web.egress import TenantEgress  # noqa: E402
from tests.support.mcp_server import TOKEN, mcp_server  # noqa: E402


def _measure(url: str, egress: Egress | None, rounds: int) -> tuple[list[float], list[float]]:
    listings: list[float] = []
    calls: list[float] = []
    server = McpServerSettings(name="runbooks", url=url, auth=TOKEN)
    for _ in range(rounds):
        box = McpToolbox([server], egress=egress)
        started = time.perf_counter()
        box.names()
        listings.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        box.call("runbooks.lookup", {"service": "payments"})
        calls.append((time.perf_counter() - started) * 1000)
    return listings, calls


def _summary(label: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"{label:<28} median {statistics.median(values):7.1f} ms   p90 {p90:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with mcp_server() as standin:
        _measure(standin.url, None, 2)  # imports and first connections
        for label, egress in (("direct", None), ("pinned egress", TenantEgress())):
            listings, calls = _measure(standin.url, egress, args.rounds)
            print(_summary(f"{label}: list tools", listings))
            print(_summary(f"{label}: call lookup", calls))


if __name__ == "__main__":
    main()
