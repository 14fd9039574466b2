"""A sink's ``Work`` for the runtime's ``ConsumeLoop``: run a poll's commands in waves.

The loop's at-least-once delivery commits (``isthmus.kafka.loop``); what is sink-specific:

1. The poll's due commands run in waves of distinct keys against the target (``PollBatch``).
   Every outcome is produced through the poll's delivery: result, state, xref and audit
   records, or the retry/DLQ/parked copies. A crash re-reads what was not committed; the target
   sees the command again and recognises it (upsert by alternate key, find-before-create), so
   nothing is created twice, and a change a newer version of its record already overwrote is
   skipped (``isthmus.sink.versions``).
2. A command held because the breaker is open or the credential is refused is not passed: its
   partition is sought back to it and the loop pauses every partition (``Handled.hold``) until
   a probe of the target succeeds (``SinkWork.probe``). The partition's later commands that
   were answered in that poll (their outputs produced) are remembered and skipped when the
   partition is read again, so a pause never sends a finished command twice; after a restart
   the memory is gone and step 1's recognition covers them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from confluent_kafka import Message

from isthmus.kafka.delivery import Delivery
from isthmus.kafka.work import Handled
from isthmus.sink.batch import PollBatch
from isthmus.sink.context import SinkContext
from isthmus.sink.errors import CommandFailedError

logger = logging.getLogger(__name__)


class SinkWork:
    """Runs a sink's commands; holds consumption while the target is down or refuses us."""

    def __init__(self, ctx: SinkContext) -> None:
        self._ctx = ctx
        self._gate: str | None = None
        self._probe_at = 0.0
        self._auth_pause_s = ctx.settings.auth_pause_s
        self._answered: dict[tuple[str, int], set[int]] = {}

    def handle(self, messages: Sequence[Message], *, delivery: Delivery, now: datetime) -> Handled:
        """Admit, run and route the poll's due commands."""
        batch = PollBatch(ctx=self._ctx, delivery=delivery, now=now)
        pending = []
        for message in messages:
            if self._answered_before(message):
                batch.pass_offset(message)
            elif (item := batch.admit(message)) is not None:
                pending.append(item)
        batch.run(pending)
        for tp, offsets in batch.answered_after_holds().items():
            self._answered.setdefault(tp, set()).update(offsets)
        if batch.auth_failed is not None:
            self._close_gate("auth", batch.auth_failed)
        elif self._ctx.breaker.is_open and self._gate is None:
            self._close_gate("breaker", None)
        return Handled(offsets=batch.finish(), rewind=dict(batch.held), hold=self._gate)

    def _answered_before(self, message: Message) -> bool:
        """True once for a message answered in the poll that held and rewound its partition."""
        answered = self._answered.get((message.topic() or "", message.partition() or 0))
        offset = message.offset() or 0
        if not answered or offset not in answered:
            return False
        answered.discard(offset)
        return True

    def probe(self) -> bool:
        """Probe the target when due; True (gate open again) once it answers."""
        now = time.monotonic()
        breaker = self._ctx.breaker
        due = breaker.probe_due(now=now) if self._gate == "breaker" else now >= self._probe_at
        if not due:
            return False
        if self._gate == "breaker":
            breaker.start_probe()
        try:
            self._ctx.run(self._ctx.executor.probe())
        except CommandFailedError as exc:
            logger.warning("probe of the target failed (%s): %s", self._gate, exc)
            if self._gate == "breaker":
                breaker.probe_failed(now=time.monotonic())
            else:
                self._auth_pause_s = min(
                    self._auth_pause_s * 2, self._ctx.settings.auth_pause_s * 10
                )
                self._probe_at = time.monotonic() + self._auth_pause_s
            return False
        logger.info("target answers again (%s)", self._gate)
        breaker.record_success()
        self._gate = None
        self._auth_pause_s = self._ctx.settings.auth_pause_s
        self._ctx.metrics.auth_failing.set(0)
        self._ctx.metrics.breaker_open.set(0)
        return True

    def close(self) -> None:
        """Close the executor's connections."""
        self._ctx.run(self._ctx.executor.aclose())
        logger.info("sink closed")

    def _close_gate(self, reason: str, failure: CommandFailedError | None) -> None:
        self._gate = reason
        if reason == "auth":
            self._probe_at = time.monotonic() + self._auth_pause_s
            self._ctx.metrics.auth_failing.set(1)
            logger.error(
                "credential refused, consumption paused for %.0fs: %s", self._auth_pause_s, failure
            )
        else:
            self._ctx.metrics.breaker_open.set(1)
            logger.error("target unavailable, circuit open: consumption paused")
