"""A background process known by the pid file it left, so a later command can stop it."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path

logger = logging.getLogger(__name__)


def running_pid(pid_file: Path) -> int | None:
    """The process id in ``pid_file`` if that process still exists."""
    if not pid_file.is_file():
        return None
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def terminate(pid_file: Path, *, name: str, timeout_s: float) -> None:
    """SIGTERM the process of ``pid_file``, SIGKILL it after ``timeout_s``, remove the file."""
    pid = running_pid(pid_file)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and running_pid(pid_file) is not None:
            _reap(pid)
            time.sleep(0.1)
        if running_pid(pid_file) is not None:
            logger.warning("%s pid %s ignored SIGTERM for %ss; killing", name, pid, timeout_s)
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
    pid_file.unlink(missing_ok=True)


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
