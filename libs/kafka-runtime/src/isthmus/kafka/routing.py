"""Where a failed record goes: retry tiers, the DLQ and the parking topic of one consumer group.

Names follow docs/architecture.md (Topics): ``<group>.retry.<delay>``, ``<group>.dlq`` and
``<group>.parked``; the delays come from ``deploy/topics.yaml``. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from isthmus.kafka.catalogue import Catalogue, TopicKind
from isthmus.kafka.errors import ErrorClass, ProcessingError, Stage
from isthmus.kafka.settings import ProcessorSettings

_UNITS = (("h", 3_600_000), ("m", 60_000), ("s", 1_000))


@dataclass(frozen=True)
class RetryTier:
    """One non-blocking retry topic and how long its records wait before they are due."""

    topic: str
    delay_ms: int


@dataclass(frozen=True)
class Routes:
    """The retry tiers (shortest first), the DLQ and the parking topic of one consumer group."""

    group: str
    tiers: tuple[RetryTier, ...]

    @property
    def dlq(self) -> str:
        """``<group>.dlq``: records that will not succeed as they are."""
        return f"{self.group}.dlq"

    @property
    def parked(self) -> str:
        """``<group>.parked``: the compacted set of keys with a record in a retry topic."""
        return f"{self.group}.parked"

    @property
    def retry_topics(self) -> list[str]:
        """The retry topics, shortest delay first."""
        return [tier.topic for tier in self.tiers]

    def all_topics(self) -> list[str]:
        """Every topic the group writes besides its handler's outputs."""
        return [*self.retry_topics, self.dlq, self.parked]

    def tier_index(self, topic: str) -> int | None:
        """Position of ``topic`` among the retry tiers, or None for any other topic."""
        for index, tier in enumerate(self.tiers):
            if tier.topic == topic:
                return index
        return None

    def next_tier(self, topic: str) -> RetryTier | None:
        """The tier a record read from ``topic`` goes to after a retryable failure.

        A record from a source topic starts at the first tier; one from tier ``i`` goes to tier
        ``i + 1``; after the last tier (or with no tiers at all) the answer is None: the DLQ.
        """
        index = self.tier_index(topic)
        following = 0 if index is None else index + 1
        return self.tiers[following] if following < len(self.tiers) else None

    @classmethod
    def from_delays(cls, *, group: str, delays_ms: Sequence[int]) -> Routes:
        """Routes with the given delays, e.g. ``[1000, 2000]`` → ``<group>.retry.1s``, ``.2s``."""
        tiers = tuple(
            RetryTier(topic=f"{group}.retry.{format_delay(delay)}", delay_ms=delay)
            for delay in sorted(delays_ms)
        )
        return cls(group=group, tiers=tiers)

    @classmethod
    def from_catalogue(
        cls, catalogue: Catalogue, *, group: str, template: str | None = None
    ) -> Routes:
        """Routes whose delays are those the catalogue declares for ``template`` (default: group).

        Tests and second deployments pass their own ``group`` with the catalogue's group as
        ``template``, so they get fresh topics with the production delays.
        """
        prefix = f"{template or group}.retry."
        delays = [
            spec.retry_delay_ms
            for spec in catalogue.of_kind(TopicKind.RETRY)
            if spec.name.startswith(prefix) and spec.retry_delay_ms is not None
        ]
        return cls.from_delays(group=group, delays_ms=delays)


def routes_for(
    settings: ProcessorSettings, *, catalogue: Catalogue, service: str | None = None
) -> Routes:
    """The routes of a processor: its ``retry_delays_ms`` if set, else the catalogue's delays of
    ``retry_template`` (default: ``service``, the group whose tiers the catalogue declares for
    it; else its own group). Every service builds its routes here.
    """
    if settings.retry_delays_ms is not None:
        return Routes.from_delays(group=settings.group_id, delays_ms=settings.retry_delays_ms)
    return Routes.from_catalogue(
        catalogue, group=settings.group_id, template=settings.retry_template or service
    )


def format_delay(delay_ms: int) -> str:
    """The catalogue spelling of a delay: ``1s``, ``10m``, ``1h`` or ``500ms``."""
    for unit, size in _UNITS:
        if delay_ms % size == 0:
            return f"{delay_ms // size}{unit}"
    return f"{delay_ms}ms"


def classify(exc: BaseException, *, stage: Stage) -> ErrorClass:
    """Decide the route of an exception raised while processing one record.

    Isthmus errors say their class. Foreign errors that declare one in ``error_class`` or
    ``kind`` (as ``isthmus.schemas`` errors do) or carry a ``retryable`` boolean follow it.
    Anything else raised while decoding or encoding is the record's fault (invalid); anything
    else raised by the handler is a bug (fatal).
    """
    if isinstance(exc, ProcessingError):
        return exc.error_class
    known = {member.value for member in ErrorClass}
    for attribute in ("error_class", "kind"):
        declared = getattr(exc, attribute, None)
        if isinstance(declared, str) and declared in known:
            return ErrorClass(declared)
    retryable = getattr(exc, "retryable", None)
    if isinstance(retryable, bool):
        return ErrorClass.RETRYABLE if retryable else ErrorClass.INVALID
    if stage in (Stage.DECODE, Stage.ENCODE):
        return ErrorClass.INVALID
    return ErrorClass.FATAL
