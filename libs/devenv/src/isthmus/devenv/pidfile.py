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
    """The process id in ``pid_file`` if that process still runs (an exited zombie does not)."""
    if not pid_file.is_file():
        return None
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return None if _is_zombie(pid) else pid


def _is_zombie(pid: int) -> bool:
    """True when ``pid`` has exited and only waits for its parent to collect its status.

    Such a process still answers signal 0, but it will never stop any further, so a caller that
    is not its parent (``isthmus-dev kafka down`` beside ``make run``) must not wait for it.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no procfs here: fall back on signal 0 alone
    state = stat.rpartition(")")[2].split()[:1]  # the name in parentheses may hold spaces
    return state in (["Z"], ["X"])


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
