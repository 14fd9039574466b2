"""Produce to Kafka and wait for the broker's acknowledgement (idempotent, acks=all)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from isthmus.ingress.errors import UnavailableError
from isthmus.kafka.client_logs import CLIENT_LOG
from isthmus.kafka.headers import Headers
from isthmus.kafka.settings import KafkaSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutRecord:
    """One serialized record to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


class KafkaEventProducer:
    """An idempotent producer with a polling thread; ``send`` resolves on delivery reports.

    ``message.timeout.ms`` equals the acknowledgement timeout, so when ``send`` raises
    librdkafka has given up on the record and the caller's retry never races a pending one. A
    record that timed out while its request was in flight (a broker paused mid-request) may
    still have been written: the 503 then makes the caller send it again, and the second copy is
    absorbed downstream (the transformer's commands carry the source event's idempotency key;
    the sinks upsert or find before they create). A fatal producer error (the idempotent
    producer cannot keep its guarantee) or a dead polling thread makes ``failure`` say why; the
    liveness probe then fails so the process is restarted with a fresh producer.
    """

    def __init__(self, *, settings: KafkaSettings, ack_timeout_s: float) -> None:
        self._ack_timeout_s = ack_timeout_s
        self._producer = Producer(
            {
                **settings.client_config(),
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 2,
                "message.timeout.ms": int(ack_timeout_s * 1000),
                "socket.connection.setup.timeout.ms": 3000,
                "reconnect.backoff.max.ms": 1000,
                "error_cb": self._on_error,
            }
        )
        self._fatal: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="ingress-producer", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    def _on_error(self, error: KafkaError) -> None:
        CLIENT_LOG.error(error)
        if error.fatal():
            self._fatal = error.str()

    @property
    def failure(self) -> str | None:
        """Why this producer can no longer deliver (None while it can)."""
        if self._fatal is not None:
            return f"Kafka producer failed: {self._fatal}"
        if not self._stop.is_set() and not self._thread.is_alive():
            return "Kafka producer's polling thread ended"
        return None

    async def send(self, records: Sequence[OutRecord]) -> None:
        """Produce ``records`` and wait until the broker acknowledged every one.

        Raises:
            UnavailableError: a record was not acknowledged in time or was refused.
        """
        failure = self.failure
        if failure is not None:
            raise UnavailableError(failure)
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []
        for record in records:
            future: asyncio.Future[None] = loop.create_future()
            futures.append(future)
            try:
                self._producer.produce(
                    record.topic,
                    key=record.key,
                    value=record.value,
                    headers=list(record.headers),
                    on_delivery=_reporter(loop, future),
                )
            except (BufferError, KafkaException) as exc:
                future.set_exception(UnavailableError(f"Kafka refused the record: {exc}"))
        try:
            await asyncio.wait_for(asyncio.gather(*futures), timeout=self._ack_timeout_s + 5)
        except TimeoutError as exc:
            raise UnavailableError("Kafka did not acknowledge in time") from exc

    def reachable(self, *, timeout_s: float = 2.0) -> bool:
        """True when a broker answered a metadata request."""
        try:
            metadata = self._producer.list_topics(timeout=timeout_s)
        except KafkaException:
            return False
        return bool(metadata.brokers)

    def close(self, *, timeout_s: float = 10.0) -> None:
        """Flush what is queued and stop the polling thread."""
        self._stop.set()
        self._thread.join(timeout=5)
        left = self._producer.flush(timeout_s)
        if left:
            logger.warning("records left unacknowledged at shutdown", extra={"count": left})


def _reporter(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]):  # type: ignore[no-untyped-def]
    def report(error: KafkaError | None, _message: Message) -> None:
        loop.call_soon_threadsafe(_settle, future, error)

    return report


def _settle(future: asyncio.Future[None], error: KafkaError | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(UnavailableError(f"Kafka did not acknowledge: {error.str()}"))
