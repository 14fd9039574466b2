"""Whether a consume loop is alive and ready, and the watchdog that ends one that is stuck.

A librdkafka call can block far past its own timeout (a transaction call while the broker is
away is the known case). Python runs signal handlers only between bytecodes of the main thread,
so a main thread stuck inside such a call also ignores SIGTERM. The watchdog is a second thread
that does not depend on the main one: it sees signals through the interpreter's wakeup file
descriptor, and when the loop has been inside one batch (or away from ``poll``) for longer than
the stall timeout, or has not stopped within the shutdown timeout of a signal, it logs why and
ends the process with a non-zero code so the supervisor (Kubernetes, ``isthmus-dev``) starts a
fresh one. Nothing is lost by that exit: offsets are committed only after the outputs, and an
open transaction is aborted when the next instance registers the same transactional.id.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

STUCK_EXIT_CODE = 70
"""Exit code of a process the watchdog ended (EX_SOFTWARE)."""

_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


@dataclass
class LoopHealth:
    """What a consume loop reports: polls, batches, group membership, pauses.

    ``alive`` is false once the loop has been stuck longer than ``stall_s``; ``ready`` also
    requires a group member that is consuming (not paused by a failing target).
    """

    stall_s: float
    started: bool = False
    member: bool = False
    phase: str = "starting"
    paused_reason: str | None = None
    last_poll: float = field(default_factory=time.monotonic)
    last_progress: float = field(default_factory=time.monotonic)
    busy_since: float | None = None
    clock: Callable[[], float] = time.monotonic

    def polled(self) -> None:
        """The loop returned from ``poll``/``consume``."""
        self.last_poll = self.clock()

    @contextlib.contextmanager
    def busy(self, phase: str) -> Iterator[None]:
        """Mark the loop inside ``phase`` (a batch, a rebalance, the close) until it returns."""
        outer, since = self.phase, self.busy_since
        self.phase = phase
        if since is None:
            self.busy_since = self.clock()
        try:
            yield
        finally:
            self.phase, self.busy_since = outer, since
            if since is None:
                self.last_progress = self.clock()

    def assigned(self) -> None:
        """The group gave this member its partitions (possibly none)."""
        self.member = True

    def lost(self) -> None:
        """The group dropped this member (session timeout, poll interval exceeded)."""
        self.member = False

    def stuck(self) -> tuple[str, float] | None:
        """``(phase, seconds)`` when the loop has made no step for longer than ``stall_s``."""
        now = self.clock()
        if self.busy_since is not None:
            waited = now - self.busy_since
            return (self.phase, waited) if waited > self.stall_s else None
        waited = now - max(self.last_poll, self.last_progress)
        if self.started and waited > self.stall_s:
            return ("between polls", waited)
        return None

    @property
    def alive(self) -> bool:
        """False once the loop is stuck (the liveness probe's answer)."""
        return self.stuck() is None

    @property
    def ready(self) -> bool:
        """True while the loop consumes as a group member and is neither stuck nor paused."""
        return self.started and self.member and self.alive and self.paused_reason is None

    def reason(self) -> str:
        """Why the loop is not ready (or ``ready``), for the probe's body."""
        stuck = self.stuck()
        if stuck is not None:
            return f"stuck in {stuck[0]} for {stuck[1]:.0f}s"
        if not self.started:
            return "starting"
        if not self.member:
            return "not a consumer group member"
        return self.paused_reason or "ready"


class Watchdog:
    """Ends the process when its loop is stuck or ignores a stop signal.

    It acts only for a loop on the main thread, the one that owns the process: it takes the
    interpreter's signal wakeup descriptor there, and ``on_signal`` is called from the
    watchdog's thread when SIGTERM/SIGINT arrives. A loop on another thread (embedded, tests)
    still reports through its ``LoopHealth``; ending the process is left to its owner.
    """

    def __init__(
        self,
        *,
        health: LoopHealth,
        shutdown_s: float,
        on_signal: Callable[[], None],
        check_every_s: float = 1.0,
        exit_process: Callable[[int], None] = os._exit,
    ) -> None:
        self._health = health
        self._shutdown_s = shutdown_s
        self._on_signal = on_signal
        self._every_s = check_every_s
        self._exit = exit_process
        self._done = threading.Event()
        self._stop_requested: float | None = None
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd: int | None = None
        self._thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)

    def start(self) -> None:
        """Watch from a daemon thread, when called on the main thread (else do nothing)."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._thread.start()

    def stop(self) -> None:
        """The loop returned: stop watching and give the wakeup descriptor back."""
        self._done.set()
        if self._previous_fd is not None:
            signal.set_wakeup_fd(self._previous_fd)
            self._previous_fd = None
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._reader.close()
        self._writer.close()

    def _watch(self) -> None:
        while not self._done.is_set():
            readable, _, _ = select.select([self._reader], [], [], self._every_s)
            if self._done.is_set():
                return
            if readable:
                self._signals()
            self._check()

    def _signals(self) -> None:
        try:
            data = self._reader.recv(64)
        except BlockingIOError:
            return
        if any(number in _STOP_SIGNALS for number in data) and self._stop_requested is None:
            self._stop_requested = time.monotonic()
            self._on_signal()

    def _check(self) -> None:
        stuck = self._health.stuck()
        if stuck is not None:
            phase, waited = stuck
            self._end(
                "consume loop stuck in %s for %.0fs (stall timeout %gs); exiting so the "
                "supervisor restarts the process",
                phase,
                waited,
                self._health.stall_s,
            )
        elif (
            self._stop_requested is not None
            and time.monotonic() - self._stop_requested > self._shutdown_s
        ):
            self._end(
                "consume loop did not stop within %gs of the stop signal (in %s); exiting",
                self._shutdown_s,
                self._health.phase,
            )

    def _end(self, message: str, *args: object) -> None:
        logger.error(message, *args, extra={"exit_code": STUCK_EXIT_CODE})
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):
                handler.flush()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        self._done.set()
        self._exit(STUCK_EXIT_CODE)
