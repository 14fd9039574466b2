"""Stop the sandbox when the process that started it is gone (no orphans after killed runs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

_log = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def watch_parent(*, pid: int, interval_s: float = 1.0) -> None:
    """Send ourselves SIGTERM (uvicorn's graceful shutdown) once ``pid`` has exited."""
    while _alive(pid):  # noqa: ASYNC110 - a foreign process's exit has no event to await
        await asyncio.sleep(interval_s)
    _log.warning("parent process %s is gone; shutting down", pid)
    os.kill(os.getpid(), signal.SIGTERM)


def start_watchdog(*, pid: int | None) -> asyncio.Task[None] | None:
    """Start watching ``pid`` on the running loop (None: nothing to watch)."""
    if not pid:
        return None
    return asyncio.get_running_loop().create_task(watch_parent(pid=pid))


async def stop_watchdog(task: asyncio.Task[None] | None) -> None:
    """Cancel the watch task."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
