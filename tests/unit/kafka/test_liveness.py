"""Loop health for the probes, and the watchdog that ends a process whose loop is stuck."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from isthmus.kafka.liveness import STUCK_EXIT_CODE, LoopHealth


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _health(clock: Clock) -> LoopHealth:
    return LoopHealth(stall_s=10, clock=clock, last_poll=clock(), last_progress=clock())


def test_ready_needs_a_started_group_member() -> None:
    clock = Clock()
    health = _health(clock)
    assert (health.ready, health.reason()) == (False, "starting")
    health.started = True
    assert (health.ready, health.reason()) == (False, "not a consumer group member")
    health.assigned()
    assert (health.ready, health.reason()) == (True, "ready")
    health.lost()
    assert not health.ready
    assert health.alive


def test_a_batch_longer_than_the_stall_timeout_is_stuck_in_its_innermost_phase() -> None:
    clock = Clock()
    health = _health(clock)
    health.started = True
    health.assigned()
    with health.busy("batch"):
        clock.now += 6
        with health.busy("commit"):
            clock.now += 5  # 11 s since the batch began
            assert health.stuck() == ("commit", 11)
            assert not health.alive
            assert not health.ready
            assert health.reason() == "stuck in commit for 11s"
    assert health.alive
    assert health.last_progress == clock.now


def test_no_poll_for_longer_than_the_stall_timeout_is_stuck() -> None:
    clock = Clock()
    health = _health(clock)
    clock.now += 60
    assert health.alive  # not started yet: the start is bounded by its own timeouts
    health.started = True
    assert health.stuck() == ("between polls", 60)
    health.polled()
    assert health.alive


def test_paused_loop_is_alive_but_not_ready() -> None:
    clock = Clock()
    health = _health(clock)
    health.started = True
    health.assigned()
    health.paused_reason = "breaker"
    assert health.alive
    assert (health.ready, health.reason()) == (False, "breaker")


_PROGRAM = textwrap.dedent(
    """
    import logging, signal, sys, threading
    from isthmus.kafka.liveness import LoopHealth, Watchdog
    from isthmus.telemetry.logs import configure_logging

    configure_logging(service="watchdog-test")
    stall_s, shutdown_s = float(sys.argv[1]), float(sys.argv[2])
    health = LoopHealth(stall_s=stall_s)
    health.started = True
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    watchdog = Watchdog(
        health=health, shutdown_s=shutdown_s, on_signal=lambda: None, check_every_s=0.1
    )
    watchdog.start()
    with health.busy("send_offsets_to_transaction"):
        print("blocked", flush=True)
        lock = threading.Lock()
        lock.acquire()
        lock.acquire()  # never returns; a SIGTERM runs the handler, which only takes note
    """
)


def _blocked_process(tmp_path: Path, *, stall_s: float, shutdown_s: float) -> subprocess.Popen[str]:
    script = tmp_path / "blocked.py"
    script.write_text(_PROGRAM)
    process = subprocess.Popen(
        [sys.executable, str(script), str(stall_s), str(shutdown_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "blocked"
    return process


def _log_lines(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_a_loop_stuck_in_a_call_ends_the_process_with_a_log_line(tmp_path: Path) -> None:
    process = _blocked_process(tmp_path, stall_s=1, shutdown_s=600)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == STUCK_EXIT_CODE
    lines = [line for line in _log_lines(err) if line["level"] == "error"]
    assert len(lines) == 1
    assert "stuck in send_offsets_to_transaction" in str(lines[0]["message"])


def test_sigterm_is_honoured_while_the_main_thread_never_returns(tmp_path: Path) -> None:
    # The stall timeout is far away: only the stop signal, seen by the watchdog's own thread
    # through the wakeup descriptor, can end this process.
    process = _blocked_process(tmp_path, stall_s=600, shutdown_s=0.5)
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == STUCK_EXIT_CODE
    messages = [str(line["message"]) for line in _log_lines(err)]
    assert any("did not stop within 0.5s of the stop signal" in m for m in messages), messages
