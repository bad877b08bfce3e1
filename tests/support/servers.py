"""Starting real server processes for multi-process tests, bounded in time and always stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.db import connection

from tests.support.net import free_port
from tests.support.tools import stop

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database pytest-django created, so child processes see the same rows."""
    settings = connection.settings_dict
    user, host, port = settings["USER"] or "postgres", settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgresql://{user}@{host}:{port}/{settings['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    env.update(extra)
    return env


@contextmanager
def uvicorn_servers(count: int, *, env: dict[str, str], startup_timeout: float = 120.0) -> Iterator[list[str]]:
    """Start ``count`` uvicorn processes serving the ASGI app; yields their base URLs."""
    with uvicorn_processes(count, env=env, startup_timeout=startup_timeout) as servers:
        yield [url for url, _ in servers]


@contextmanager
def uvicorn_processes(
    count: int, *, env: dict[str, str], startup_timeout: float = 120.0
) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """Like ``uvicorn_servers``, yielding each server's base URL with its process."""
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(count):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "incidentfox_web.asgi:application",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + startup_timeout
        for url, process in zip(urls, processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"server exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
                    )
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start in time")
                time.sleep(0.2)
        yield list(zip(urls, processes, strict=True))
    finally:
        for process in processes:
            process.terminate()  # all at once, then wait for each
        for process in processes:
            stop(process)
