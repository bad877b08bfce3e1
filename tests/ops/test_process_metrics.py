"""Per-process metrics in multiprocess mode: a dead process's live gauges are forgotten, a live one's kept."""

from __future__ import annotations

import os
import subprocess
import sys

from ops.metrics import MULTIPROC_DIR_ENV, forget_dead_processes


def test_the_maintenance_loop_forgets_the_live_gauges_of_processes_that_are_gone(tmp_path, monkeypatch):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead_pid, live_pid = int(finished.stdout), os.getpid()
    for pid in (dead_pid, live_pid):
        (tmp_path / f"gauge_liveall_{pid}.db").write_bytes(b"")
    (tmp_path / f"counter_{dead_pid}.db").write_bytes(b"")  # counters keep their totals after a process ends
    monkeypatch.setenv(MULTIPROC_DIR_ENV, str(tmp_path))

    assert forget_dead_processes() == 1

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"counter_{dead_pid}.db", f"gauge_liveall_{live_pid}.db"]
    )
