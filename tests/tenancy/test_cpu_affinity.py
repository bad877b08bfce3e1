"""Each web process claims one CPU of its own (``incidentfox_web.cpu_affinity``, ``WEB_CPU_AFFINITY``).

The claims run in child processes, so the test runner itself is never pinned.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from incidentfox_web.cpu_affinity import affinity_mode
from tests.support.servers import uvicorn_processes

ROOT = Path(__file__).resolve().parents[2]
CLAIM = """
import os, sys
from pathlib import Path
from incidentfox_web.cpu_affinity import claim_cpu
cpu = claim_cpu(sys.argv[1], Path(sys.argv[2]))
threads = {frozenset(os.sched_getaffinity(int(t))) for t in os.listdir("/proc/self/task")}
print(cpu, sorted(set().union(*threads)), flush=True)
sys.stdin.read()  # hold the claim until the test closes stdin
"""

needs_affinity = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="CPU affinity needs Linux and at least two CPUs",
)


@contextmanager
def claiming_process(mode: str, lock_dir: Path) -> Iterator[tuple[int | None, list[int]]]:
    """A child process that claims a CPU and holds it until the block ends; yields (claimed CPU, its CPU set)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CLAIM, mode, str(lock_dir)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        claimed, _, cpus = child.stdout.readline().strip().partition(" ")
        yield (None if claimed == "None" else int(claimed)), [int(c) for c in cpus.strip("[]").split(",")]
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


@needs_affinity
def test_each_web_process_claims_a_different_cpu_until_none_is_free(tmp_path):
    allowed = sorted(os.sched_getaffinity(0))
    with ExitStack() as stack:
        claims = [stack.enter_context(claiming_process("auto", tmp_path)) for _ in allowed]
        assert [cpu for cpu, _ in claims] == list(reversed(allowed))
        assert all(cpus == [cpu] for cpu, cpus in claims)  # every thread of the process is on its CPU
        extra_cpu, extra_cpus = stack.enter_context(claiming_process("auto", tmp_path))
        assert extra_cpu is None
        assert extra_cpus == allowed


@needs_affinity
def test_a_process_that_exits_frees_its_cpu_for_the_next_one(tmp_path):
    with claiming_process("auto", tmp_path) as (first, _):
        assert first is not None
    with claiming_process("auto", tmp_path) as (again, _):
        assert again == first


@needs_affinity
def test_off_never_pins(tmp_path):
    with claiming_process("off", tmp_path) as (cpu, cpus):
        assert cpu is None
        assert cpus == sorted(os.sched_getaffinity(0))


@needs_affinity
def test_a_server_that_cannot_write_its_claim_runs_unpinned_instead_of_failing(tmp_path):
    with claiming_process("auto", tmp_path / "missing") as (cpu, cpus):
        assert cpu is None
        assert cpus == sorted(os.sched_getaffinity(0))


def test_an_unknown_mode_fails_at_start_up_with_the_variable_name():
    with pytest.raises(ImproperlyConfigured, match="WEB_CPU_AFFINITY"):
        affinity_mode("sometimes")
    assert affinity_mode(None) == "off"
    assert affinity_mode(" AUTO ") == "auto"


def _thread_cpus(pid: int) -> set[frozenset[int]]:
    return {frozenset(os.sched_getaffinity(int(task))) for task in os.listdir(f"/proc/{pid}/task")}


@needs_affinity
def test_two_uvicorn_servers_each_run_on_a_cpu_of_their_own(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "ALLOWED_HOSTS": "127.0.0.1", "WEB_CPU_AFFINITY": "auto"}
    env.pop("DATABASE_URL", None)  # /health needs no database
    with uvicorn_processes(2, env=env) as servers:
        pinned = [_thread_cpus(process.pid) for _, process in servers]
    assert all(len(cpus) == 1 and len(next(iter(cpus))) == 1 for cpus in pinned)  # every thread, one CPU
    assert pinned[0] != pinned[1]
