"""Composition root: builds every client of the ingress once; tests pass overrides."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from isthmus.connectors.d365.client import DataverseClient
from isthmus.connectors.s4.client import S4Client
from isthmus.ingress.adapters.checkpoints import load_checkpoints
from isthmus.ingress.adapters.hydrator import CoalescingHydrator, ConnectorReader, RecordReader
from isthmus.ingress.adapters.producer import KafkaEventProducer
from isthmus.ingress.adapters.recent import restore_window
from isthmus.ingress.adapters.state_reader import StateTopicReader
from isthmus.ingress.auth import TokenIssuer
from isthmus.ingress.core.changes import KnownStates
from isthmus.ingress.core.dedup import DedupWindow
from isthmus.ingress.core.echo import LastWrites
from isthmus.ingress.core.ratelimit import RateLimiter
from isthmus.ingress.http_api import Components, create_app
from isthmus.ingress.pipeline import Ingress
from isthmus.ingress.pollers import CHECKPOINT_SCHEMA, Pollers
from isthmus.ingress.publishers import PublisherAuth
from isthmus.ingress.refusals import RefusalKeeper
from isthmus.ingress.settings import IngressSettings
from isthmus.kafka.catalogue import Catalogue, TopicKind, load_catalogue
from isthmus.schemas import SerdeFactory

logger = logging.getLogger(__name__)


@dataclass
class Overrides:
    """Replacements for tests and benchmarks (anything left None is built from settings)."""

    producer: KafkaEventProducer | None = None
    reader: RecordReader | None = None
    publish_topics: dict[str, str] | None = None
    restore_dedup: bool = True


def topic_catalogue(settings: IngressSettings, root: Path) -> Catalogue:
    """The topic catalogue: what every topic means (system, entity, kind, schema).

    A relative ``topics_file`` is looked up under ``root``, then beside the schemas folder.

    Raises:
        CatalogueError: the topics file is missing or invalid.
    """
    path = settings.topics_file
    if not path.is_absolute():
        schemas_dir = settings.schemas.schemas_dir
        beside = schemas_dir.parent / path if schemas_dir.is_absolute() else None
        path = root / path if (root / path).is_file() or beside is None else beside
    return load_catalogue(path)


def publishable_topics(settings: IngressSettings, catalogue: Catalogue) -> dict[str, str]:
    """Topic → value schema of the topics the publish API accepts.

    By default every events topic that a ``publish.topic_roles`` pattern gives a role;
    ``audit.events`` and the other topics Isthmus writes itself stay closed.
    """
    chosen = set(settings.publish_topics)
    roles = PublisherAuth(settings=settings.publish, client=None)
    return {
        spec.name: spec.value_schema
        for spec in catalogue
        if spec.value_schema
        and (spec.name in chosen if chosen else spec.kind is TopicKind.EVENTS)
        and roles.required_role(spec.name) is not None
    }


def build_app(
    settings: IngressSettings, *, root: Path | None = None, overrides: Overrides | None = None
) -> FastAPI:
    """The ingress application with its producer, readers and background tasks.

    Raises:
        CatalogueError: the schemas folder is missing or invalid.
    """
    base = root or Path.cwd()
    given = overrides or Overrides()
    serdes = SerdeFactory(settings=settings.schemas, root=base)
    topics = topic_catalogue(settings, base)
    producer = given.producer or KafkaEventProducer(
        settings=settings.kafka, ack_timeout_s=settings.ack_timeout_s
    )
    d365 = DataverseClient.connect(settings=settings.d365) if settings.d365 else None
    s4 = S4Client.connect(settings=settings.s4) if settings.s4 else None
    ingress = _ingress(
        settings, serdes, producer, given.reader or ConnectorReader(d365=d365, s4=s4), topics
    )
    publish = given.publish_topics
    keys_client = _keys_client(settings)
    components = Components(
        settings=settings,
        ingress=ingress,
        tokens=_tokens(settings),
        limiter=RateLimiter(rate_per_s=settings.limits.rate_per_s, burst=settings.limits.burst),
        publish_topics=publish if publish is not None else publishable_topics(settings, topics),
        publishers=PublisherAuth(settings=settings.publish, client=keys_client),
        refusals=RefusalKeeper(
            ingress=ingress, dlq_topic=settings.dlq_topic, audit_topic=settings.audit_topic
        ),
    )
    state = StateTopicReader(
        settings=settings.kafka,
        topics=settings.state_topics,
        deserializer=serdes.deserializer(value_schema="io.isthmus.common.EntityState"),
        writes=ingress.last_writes,
        known=ingress.known_states,
    )
    pollers = _pollers(settings, ingress, d365, s4, serdes)
    restore = _restorer(settings, ingress, components.publish_topics, enabled=given.restore_dedup)

    async def close_clients() -> None:
        for client in (d365, s4):
            if client is not None:
                await client.aclose()

    components.on_start += [restore, state.start, pollers.start]
    components.on_stop += [pollers.stop, state.stop, close_clients]
    if keys_client is not None:
        components.on_stop.append(keys_client.aclose)
    if given.producer is None:
        components.on_stop.append(producer.close)
    app = create_app(components)
    app.state.state_reader = state
    return app


def _keys_client(settings: IngressSettings) -> httpx.AsyncClient | None:
    """The HTTP client of the token issuer's JWKS URL (None without one)."""
    if settings.publish.jwks_url is None:
        return None
    ca = settings.publish.ca_file
    verify = ssl.create_default_context(cafile=str(ca) if ca else None)
    return httpx.AsyncClient(verify=verify, timeout=10.0)


def _ingress(
    settings: IngressSettings,
    serdes: SerdeFactory,
    producer: KafkaEventProducer,
    reader: RecordReader,
    topics: Catalogue,
) -> Ingress:
    return Ingress(
        producer=producer,
        serdes=serdes,
        hydrator=CoalescingHydrator(
            reader=reader, windows_s={"s4": settings.sap.coalesce_window_s, "d365": 0.0}
        ),
        dedup=DedupWindow(window_s=settings.dedup_window_s),
        last_writes=LastWrites(),
        integration_users={
            "D365": settings.dataverse.integration_user,
            "S4": settings.sap.integration_user,
        },
        audit_topic=settings.audit_topic,
        topics=topics,
        known_states=KnownStates.for_topics(settings.state_topics, catalogue=topics),
    )


def _tokens(settings: IngressSettings) -> TokenIssuer:
    key = settings.sap.token_signing_key
    return TokenIssuer(settings=settings.sap, key=key.get_secret_value().encode() if key else None)


def _restorer(
    settings: IngressSettings, ingress: Ingress, publish: dict[str, str], *, enabled: bool
) -> Callable[[], Awaitable[None]]:
    """The start-up step rebuilding the de-duplication window from recent records."""
    topics = _event_topics(settings, publish)

    async def restore() -> None:
        if enabled and settings.dedup_window_s > 0:
            count = await asyncio.to_thread(
                restore_window,
                settings=settings.kafka,
                topics=topics,
                dedup=ingress.dedup,
                window_s=settings.dedup_window_s,
            )
            logger.info("de-duplication window restored", extra={"ids": count})

    return restore


class _PollerTask:
    """Starts the pollers after the checkpoints are read; cancels them on shutdown."""

    def __init__(self, build: Callable[[], Awaitable[Pollers]] | None) -> None:
        self._build = build
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._build is not None:
            pollers = await self._build()
            self._task = asyncio.create_task(pollers.run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _pollers(
    settings: IngressSettings,
    ingress: Ingress,
    d365: DataverseClient | None,
    s4: S4Client | None,
    serdes: SerdeFactory,
) -> _PollerTask:
    if not settings.pollers.enabled:
        return _PollerTask(None)

    async def build() -> Pollers:
        checkpoints = await asyncio.to_thread(
            load_checkpoints,
            settings=settings.kafka,
            topic=settings.pollers.checkpoint_topic,
            deserializer=serdes.deserializer(value_schema=CHECKPOINT_SCHEMA),
        )
        logger.info("poller checkpoints read", extra={"pollers": sorted(checkpoints)})
        return Pollers(
            settings=settings, ingress=ingress, d365=d365, s4=s4, checkpoints=checkpoints
        )

    return _PollerTask(build)


def _event_topics(settings: IngressSettings, publish: dict[str, str]) -> list[str]:
    topics = {route.topic for route in settings.dataverse.routes.values()}
    topics |= {route.topic for route in settings.sap.routes.values()}
    topics.add(settings.dataverse.shipment_topic)
    return sorted(topics | set(publish))
