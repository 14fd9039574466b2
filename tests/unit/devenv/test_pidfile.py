"""A pid file's process counts as running only while it has not exited."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from isthmus.devenv.pidfile import running_pid, terminate

pytestmark = pytest.mark.unit


def _zombie(pid_file: Path) -> subprocess.Popen[bytes]:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    pid_file.write_text(str(child.pid))
    stat = Path(f"/proc/{child.pid}/stat")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and stat.read_text().rpartition(")")[2].split()[0] != "Z":
        time.sleep(0.01)
    return child


def test_an_exited_child_not_yet_collected_is_not_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "broker.pid"
    child = _zombie(pid_file)
    try:
        assert running_pid(pid_file) is None
        terminate(pid_file, name="broker", timeout_s=30)
        assert not pid_file.exists()
    finally:
        child.wait()


def test_a_live_process_is_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pid_file.write_text(str(child.pid))
    try:
        assert running_pid(pid_file) == child.pid
        terminate(pid_file, name="sleeper", timeout_s=30)
        # terminate may collect the exit status itself (then Popen sees 0): the sleeper ended
        # long before its 60 s, which it only does on the signal
        child.wait(timeout=30)
        assert not pid_file.exists()
        assert child.returncode in {0, -signal.SIGTERM}
    finally:
        child.kill()
        child.wait()
