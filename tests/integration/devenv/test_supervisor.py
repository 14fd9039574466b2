"""The local supervisor echoes children's logs with their names and stops them all."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from isthmus.devenv.supervisor import ChildSpec, Supervisor

pytestmark = pytest.mark.integration

_CHATTY = "import time\nfor i in range(3):\n    print(f'line {i}', flush=True)\ntime.sleep(60)\n"


def test_logs_are_prefixed_and_children_stop_in_reverse_order(tmp_path: Path) -> None:
    sink = io.StringIO()
    supervisor = Supervisor(log_dir=tmp_path, console=Console(file=sink, width=200))
    first = supervisor.start(ChildSpec(name="alpha", argv=[sys.executable, "-c", _CHATTY]))
    second = supervisor.start(ChildSpec(name="beta", argv=[sys.executable, "-c", _CHATTY]))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sink.getvalue().count("line 2") < 2:
        time.sleep(0.1)

    supervisor.stop_all()

    echoed = sink.getvalue()
    assert "alpha | line 0" in echoed
    assert "beta | line 2" in echoed
    assert first.returncode() is not None
    assert second.returncode() is not None
    assert (tmp_path / "alpha.log").read_text().splitlines() == ["line 0", "line 1", "line 2"]


def test_a_child_that_dies_is_reported(tmp_path: Path) -> None:
    supervisor = Supervisor(log_dir=tmp_path, console=Console(file=io.StringIO()))
    supervisor.start(ChildSpec(name="short", argv=[sys.executable, "-c", "raise SystemExit(3)"]))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not supervisor.exited():
        time.sleep(0.1)

    assert supervisor.exited() == [("short", 3)]
    supervisor.stop_all()


def test_a_stopped_child_is_not_restarted(tmp_path: Path) -> None:
    supervisor = Supervisor(log_dir=tmp_path, console=Console(file=io.StringIO()))
    supervisor.start(ChildSpec(name="kept", argv=[sys.executable, "-c", _CHATTY]))
    supervisor.start(ChildSpec(name="gone", argv=[sys.executable, "-c", _CHATTY]))

    supervisor.stop("gone")

    assert supervisor.pid("gone") is None
    assert supervisor.restart_exited() == []
    assert supervisor.exited() == []
    assert supervisor.pid("kept") is not None
    with pytest.raises(KeyError):
        supervisor.stop("gone")
    supervisor.stop_all()
