"""librdkafka's own logs and errors through Python logging, one line per episode.

Without a ``logger`` property librdkafka writes to stderr, and while a broker is away every
client repeats the same connection error every few dozen milliseconds. ``ClientLog`` takes both
the log callback and ``error_cb``: the first line of an episode (one client, one kind of message)
is logged at once, repeats are counted, a summary follows every ``summary_s`` while the episode
lasts, and the episode ends after ``quiet_s`` without a repeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import KafkaError

_LOGGER = "isthmus.kafka.client"


@dataclass
class _Episode:
    first: float
    last: float
    reported: float
    repeats: int = 0


class ClientLog:
    """A librdkafka ``logger`` (its ``log`` method) and ``error_cb`` with per-episode limits.

    Thread-safe: librdkafka serves callbacks on whichever thread polls the client.
    """

    def __init__(
        self,
        *,
        name: str = _LOGGER,
        quiet_s: float = 30.0,
        summary_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logging.getLogger(name)
        self._quiet_s = quiet_s
        self._summary_s = summary_s
        self._clock = clock
        self._lock = threading.Lock()
        self._episodes: dict[tuple[str, str], _Episode] = {}

    def log(self, level: int, fmt: str, *args: object) -> None:
        """librdkafka's log callback: ``log(level, "%s [%s] %s", facility, client, text)``."""
        facility, client, text = [str(a) for a in (*args, "", "", "")][:3]
        if not self._logger.isEnabledFor(level):
            return
        self._emit(
            level,
            (client, f"log:{facility}"),
            "kafka client %s: %s",
            (client, text),
            {"facility": facility},
        )

    def error(self, error: KafkaError) -> None:
        """librdkafka's ``error_cb``: errors the client recovers from by itself, or fatal ones."""
        level = logging.ERROR if error.fatal() else logging.WARNING
        self._emit(
            level,
            ("", f"error:{error.name()}"),
            "kafka client error %s: %s",
            (error.name(), error.str()),
            {"code": error.name(), "fatal": error.fatal()},
        )

    def _emit(
        self,
        level: int,
        key: tuple[str, str],
        message: str,
        args: tuple[object, ...],
        extra: dict[str, object],
    ) -> None:
        now = self._clock()
        with self._lock:
            episode = self._episodes.get(key)
            if episode is None or now - episode.last >= self._quiet_s:
                self._episodes[key] = _Episode(first=now, last=now, reported=now)
                summary = None
            else:
                episode.last = now
                episode.repeats += 1
                if now - episode.reported < self._summary_s:
                    return
                summary = (episode.repeats, now - episode.first)
                episode.reported = now
                episode.repeats = 0
        if summary is None:
            self._logger.log(level, message, *args, extra=extra)
        else:
            repeats, lasting = summary
            self._logger.log(
                level,
                message + " (repeated %d times, episode lasting %.0fs)",
                *args,
                repeats,
                lasting,
                extra={**extra, "repeats": repeats},
            )


CLIENT_LOG = ClientLog()
"""The process's one instance, shared by every client ``KafkaSettings.client_config`` builds."""
