"""Timed status polls, shared by the sync-runs test and ``bench/api_bench.py``."""

from __future__ import annotations

import time

import httpx


def timed_polls(client: httpx.Client, url: str, count: int) -> list[float]:
    """Milliseconds for each of ``count`` GETs of ``url``, 20 ms apart; every answer must be 200."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        time.sleep(0.02)
    return samples
