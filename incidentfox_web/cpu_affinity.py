"""Keep each web process on one CPU of its own (``WEB_CPU_AFFINITY``).

A web process runs Python on one core at a time (the GIL), but its request threads hand the GIL to each other at
every network call (PostgreSQL, Redis). When those threads sit on different cores, every hand-off wakes a thread
on another core and moves its working set between caches; on a two-core machine that cost a Redis-backed
authenticated request about 1.6 ms of CPU instead of 0.8 ms. Keeping the whole process on one core makes each
hand-off a local switch and loses nothing, since the process could not run Python on two cores anyway.

With ``auto`` each web process claims the highest-numbered free CPU of those it may run on, by
holding an exclusive lock on a per-CPU file for its lifetime, so ``--workers N`` spreads N processes over N cores
and a process that exits frees its core. When every allowed CPU is claimed, or only one is allowed, or the
platform has no CPU affinity (macOS, Windows), the process runs unpinned. ``off`` (the default) never pins.

The claims are files in the temporary directory, so they only coordinate processes that share it: one host or
one container. ``make run`` (``scripts/serve.sh``) turns ``auto`` on. Containers that share a machine's CPUs
without sharing /tmp would all claim the same core, so there exclusive cores come from the orchestrator instead
(for example Kubernetes' static CPU manager policy for guaranteed pods).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import IO

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("incidentfox.web")

MODES = ("auto", "off")
_held: list[IO[bytes]] = []  # claimed lock files stay open (and locked) for the life of the process


def affinity_mode(raw: str | None) -> str:
    mode = (raw or "off").strip().lower()
    if mode not in MODES:
        raise ImproperlyConfigured(f"WEB_CPU_AFFINITY must be one of {', '.join(MODES)}, got {raw!r}.")
    return mode


def claim_cpu(mode: str, lock_dir: Path | None = None) -> int | None:
    """Pin this process to one free CPU and return it, or None when it stays unpinned."""
    if mode == "off" or not hasattr(os, "sched_setaffinity"):
        return None
    import fcntl

    if _held:  # claimed already (a second start-up event in the same process)
        return min(os.sched_getaffinity(0))
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    directory = lock_dir or Path(tempfile.gettempdir())
    for cpu in reversed(allowed):  # CPU 0 usually takes more of the system's interrupts and housekeeping
        try:
            handle = open(directory / f"incidentfox-web-{os.getuid()}-cpu-{cpu}.lock", "ab")  # noqa: SIM115 - kept open
        except OSError as exc:  # an unwritable temp dir must not stop the server: it just runs unpinned
            logger.warning("Web process stays unpinned: cannot write CPU claims in %s (%s)", directory, exc)
            return None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _pin_all_threads({cpu})
        _held.append(handle)
        logger.info("Web process %d runs on CPU %d (WEB_CPU_AFFINITY=auto)", os.getpid(), cpu)
        return cpu
    return None


def _pin_all_threads(cpus: set[int]) -> None:
    """Linux applies affinity per thread: set it on every thread that exists (new threads inherit it)."""
    tasks = Path("/proc/self/task")
    thread_ids = [int(entry.name) for entry in tasks.iterdir()] if tasks.is_dir() else [0]
    for thread_id in thread_ids:
        try:
            os.sched_setaffinity(thread_id, cpus)
        except OSError:  # the thread ended meanwhile
            continue
