"""The soak's sampler reads a real process's resident memory through the supervisor's pid."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from isthmus.devenv.memory import mb, read_memory
from isthmus.devenv.supervisor import ChildSpec, Supervisor

pytestmark = pytest.mark.integration

# Touches 64 MB so that the pages are resident, says so, then waits to be stopped.
_HOLDER = (
    "import time\nblock = bytearray(64 * 1024 * 1024)\nfor i in range(0, len(block), 4096):\n"
    "    block[i] = 1\nprint('held', flush=True)\ntime.sleep(120)\n"
)


def test_the_rss_of_a_supervised_child_includes_what_it_holds(tmp_path: Path) -> None:
    supervisor = Supervisor(log_dir=tmp_path, console=Console(file=io.StringIO()))
    supervisor.start(ChildSpec(name="holder", argv=[sys.executable, "-c", _HOLDER]))
    try:
        log = tmp_path / "holder.log"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "held" not in log.read_text():
            time.sleep(0.05)
        pid = supervisor.pids()["holder"]
        assert pid is not None

        memory = read_memory(pid)

        assert memory is not None
        assert mb(memory.rss_kib) >= 64 * 1.048576
        assert memory.hwm_kib >= memory.rss_kib
    finally:
        supervisor.stop_all()
    assert supervisor.pids() == {}


def test_an_ended_child_has_no_pid_and_no_reading(tmp_path: Path) -> None:
    supervisor = Supervisor(log_dir=tmp_path, console=Console(file=io.StringIO()))
    process = supervisor.start(ChildSpec(name="short", argv=[sys.executable, "-c", "pass"]))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and supervisor.pids()["short"] is not None:
        time.sleep(0.05)

    assert supervisor.pids() == {"short": None}
    assert process.pid is not None
    assert read_memory(process.pid) is None
    supervisor.stop_all()
