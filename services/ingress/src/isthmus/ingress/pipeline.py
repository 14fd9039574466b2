"""The ingress application service: de-duplicate, hydrate, drop echoes, encode, produce.

Master-data events (topics with a state topic the ingress reads) are judged by content: a D365
change made by the integration user is our own write (its webhook names the user of that very
operation) and is dropped; a thin S/4 event gets the fields that changed since the last known
state as ``changedFields`` and is dropped when nothing changed (see ``core.changes``).

Order of effects for one request: nothing is produced until every event of the request is
converted and valid; all records (events and their audit lines) are then produced together and
the request is answered 2xx only after Kafka acknowledged all of them. Event ids are remembered
for de-duplication only after that acknowledgement.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.ingress.adapters.hydrator import CoalescingHydrator, Hydrated
from isthmus.ingress.adapters.producer import KafkaEventProducer, OutRecord
from isthmus.ingress.core import avro_json
from isthmus.ingress.core.changes import KnownStates, Observation, event_state
from isthmus.ingress.core.dedup import DedupWindow
from isthmus.ingress.core.echo import LastWrites
from isthmus.ingress.core.events import PendingEvent
from isthmus.ingress.errors import MalformedError
from isthmus.ingress.metrics import IngressMetrics
from isthmus.ingress.records import RequestContext, audit_value, event_headers, fill_required
from isthmus.kafka import headers as h
from isthmus.kafka.catalogue import Catalogue
from isthmus.schemas import AvroSerializer, SchemaCatalogue, SerdeFactory

logger = logging.getLogger(__name__)
STATE_SCHEMA = "io.isthmus.common.EntityState"


@dataclass
class Outcome:
    """What one request led to."""

    produced: list[PendingEvent] = field(default_factory=list)
    duplicates: int = 0
    echoes: int = 0
    ignored: int = 0


class Ingress:
    """Turns pending events into acknowledged Kafka records."""

    def __init__(
        self,
        *,
        producer: KafkaEventProducer,
        serdes: SerdeFactory,
        hydrator: CoalescingHydrator | None,
        dedup: DedupWindow,
        last_writes: LastWrites,
        integration_users: dict[str, str | None],
        audit_topic: str | None,
        topics: Catalogue,
        known_states: KnownStates | None = None,
    ) -> None:
        self.producer = producer
        self.catalogue: SchemaCatalogue = serdes.catalogue
        self._serdes = serdes
        self._serializers: dict[str, AvroSerializer] = {}
        self._schemas: dict[str, dict[str, Any]] = {}
        self._hydrator = hydrator
        self.dedup = dedup
        self.last_writes = last_writes
        self.known_states = known_states or KnownStates()
        self._users = integration_users
        self._audit_topic = audit_topic
        self._topics = topics
        self._versions = DedupWindow(window_s=dedup.window_s)
        self.metrics = IngressMetrics.create()

    async def accept(self, events: Sequence[PendingEvent], request: RequestContext) -> Outcome:
        """Produce ``events`` (minus duplicates and echoes) and wait for Kafka.

        Raises:
            MalformedError: an event does not fit its schema (nothing is produced).
            UnavailableError: hydration or Kafka failed (nothing is remembered; retry).
        """
        outcome = Outcome()
        records: list[OutRecord] = []
        for event in events:
            if self.dedup.seen(event.dedup_id):
                outcome.duplicates += 1
                logger.info("duplicate dropped", extra={"event_id": event.event_id})
                records.extend(self._audits(event, None, request, "DUPLICATE", "redelivery"))
                continue
            await self._hydrate(event)
            if self._is_echo(event):
                outcome.echoes += 1
                logger.info("echo of our own write dropped", extra={"key": event.key})
                records.extend(self._audits(event, None, request, "SKIPPED", "echo"))
                continue
            produced = self._records(event, request)
            if produced is None:
                outcome.echoes += 1
                logger.info("read record unchanged; event dropped", extra={"key": event.key})
                records.extend(self._audits(event, None, request, "SKIPPED", "no field changed"))
                continue
            records.extend(produced)
            outcome.produced.append(event)
        if records:
            await self.producer.send(records)
        self._count(outcome)
        for event in outcome.produced:
            self.dedup.remember(event.dedup_id)
            version = _version_id(event)
            if version:
                self._versions.remember(version)
        return outcome

    def _count(self, outcome: Outcome) -> None:
        for event in outcome.produced:
            self.metrics.produced.add(1, {"topic": event.topic})
        if outcome.duplicates:
            self.metrics.duplicates.add(outcome.duplicates)
        if outcome.echoes:
            self.metrics.echoes.add(outcome.echoes)

    def produced_version(self, event: PendingEvent) -> bool:
        """True when some channel already produced this key at this source version."""
        version = _version_id(event)
        return version is not None and self._versions.seen(version)

    async def publish(
        self,
        *,
        topic: str,
        schema_name: str,
        key: str,
        value: dict[str, Any],
        request: RequestContext,
    ) -> str:
        """Produce one already validated value; a repeated ``envelope.eventId`` is dropped.

        Raises:
            UnavailableError: Kafka did not acknowledge.
        """
        envelope = value.get("envelope") if isinstance(value.get("envelope"), dict) else None
        event_id = str(envelope["eventId"]) if envelope else str(uuid.uuid4())
        dedup_id = f"/isthmus/publish|{event_id}|{topic}"
        if self.dedup.seen(dedup_id):
            return event_id
        occurred = envelope.get("occurredAt") if envelope else None
        cloud_event = h.CloudEvent(
            id=event_id,
            source="/isthmus/publish",
            type=f"{schema_name}" if envelope is None else str(envelope.get("message")),
            time=occurred if isinstance(occurred, dt.datetime) else dt.datetime.now(dt.UTC),
            subject=key,
        )
        headers = {
            **cloud_event.headers(),
            h.TRACEPARENT: request.traceparent.encode(),
            h.CORRELATION_ID: request.correlation_id.encode(),
        }
        encoded = self.encode(topic=topic, schema_name=schema_name, value=value)
        record = OutRecord(
            topic, key.encode(), encoded, [(k, v) for k, v in headers.items() if v is not None]
        )
        await self.producer.send([record])
        self.dedup.remember(dedup_id)
        return event_id

    async def _hydrate(self, event: PendingEvent) -> None:
        if event.hydration is None or self._hydrator is None:
            return
        found: Hydrated = await self._hydrator.hydrate(event.hydration)
        self.metrics.hydrations.add(1, {"system": event.hydration.system})
        if found.data is None and not self._hydrator.reads(event.hydration.system):
            return
        if found.data is None:
            logger.info(
                "record not readable; event keeps the pushed fields",
                extra={"key": event.key, "topic": event.topic},
            )
            return
        shipment = self._topics.entity_of(event.topic) == "shipment"
        keep = {"status", "subject", "description"} if shipment else set()
        pushed = {name: event.data[name] for name in keep if name in event.data}
        event.data = {**event.data, **_web_api_shape(found.data), **pushed}
        event.envelope["sourceVersion"] = found.version
        if event.envelope["system"] == "S4":
            user = found.data.get("LastChangedByUser") or found.data.get("CreatedByUser")
            event.envelope["originUser"] = user or None

    def _is_echo(self, event: PendingEvent) -> bool:
        system = str(event.envelope["system"])
        if self.known_states.tracks(event.topic):  # master data: see the module docstring
            user, origin = self._users.get(system), event.envelope.get("originUser")
            by_us = user is not None and origin is not None and origin.lower() == user.lower()
            return system == "D365" and by_us
        return self.last_writes.is_echo(
            system=system,
            key=event.key,
            origin_user=event.envelope.get("originUser"),
            integration_user=self._users.get(system),
            data=event.data,
        )

    def schema_json(self, name: str) -> dict[str, Any]:
        """The self-contained schema ``name`` as parsed JSON (parsed once).

        Raises:
            UnknownSchemaNameError: the catalogue has no such schema.
        """
        schema = self._schemas.get(name)
        if schema is None:
            schema = self._schemas[name] = json.loads(self.catalogue.get(name).text)
        return schema

    def encode(self, *, topic: str, schema_name: str, value: dict[str, Any]) -> bytes:
        """Avro bytes of a converted value for ``topic``."""
        serializer = self._serializers.get(schema_name)
        if serializer is None:
            serializer = self._serializers[schema_name] = self._serdes.serializer(
                value_schema=schema_name
            )
        encoded = serializer(value, SerializationContext(topic, MessageField.VALUE))
        assert encoded is not None  # noqa: S101 - only None encodes to None
        return encoded

    def _records(self, event: PendingEvent, request: RequestContext) -> list[OutRecord] | None:
        """The event's records, or None when a re-read master-data record did not change."""
        schema = self.schema_json(event.schema_name)
        fill_required(event, schema)
        converted = avro_json.convert(
            {"envelope": event.envelope, "data": event.data}, schema, strict=False
        )
        if converted.violations:
            raise MalformedError(
                f"event does not fit {event.schema_name}", violations=tuple(converted.violations)
            )
        observed = self._observe(event, converted.value)
        if observed is not None and observed.unchanged:
            return None
        if observed is not None and observed.changed:
            converted.value["envelope"]["changedFields"] = observed.changed
        value = self.encode(topic=event.topic, schema_name=event.schema_name, value=converted.value)
        headers = event_headers(event, converted.value["envelope"], request)
        records = [OutRecord(event.topic, event.key.encode(), value, headers)]
        if observed is not None:
            records.append(self._state_record(event, observed))
        return records + self._audits(event, value, request, "SUCCEEDED", "accepted")

    def _observe(self, event: PendingEvent, value: dict[str, Any]) -> Observation | None:
        """Diff a read S/4 master-data record against its last known state."""
        if event.envelope["system"] != "S4" or event.hydration is None:
            return None
        return self.known_states.observe_event(
            topic=event.topic, key=event.key, record=value["data"], now=dt.datetime.now(dt.UTC)
        )

    def _state_record(self, event: PendingEvent, observed: Observation) -> OutRecord:
        """The ingress's own ``EntityState`` (source EVENT) of the record it read."""
        version = event.envelope.get("sourceVersion")
        topic = self.known_states.state_of(event.topic)
        if topic is None:  # observed only when tracked: see _observe
            raise RuntimeError(f"no state topic tracked for {event.topic}")
        state = event_state(
            topic=self._topics.meaning(event.topic),
            key=event.key,
            observation=observed,
            version=version,
        )
        encoded = self.encode(topic=topic, schema_name=STATE_SCHEMA, value=state)
        return OutRecord(topic, event.key.encode(), encoded, [])

    def _audits(
        self,
        event: PendingEvent,
        value: bytes | None,
        request: RequestContext,
        outcome: str,
        what: str,
    ) -> list[OutRecord]:
        """The audit line of one event's hop (none when auditing is off)."""
        if not self._audit_topic:
            return []
        audit = audit_value(
            event,
            entity=self._topics.entity_of(event.topic),
            payload=value,
            request=request,
            outcome=outcome,
            what=what,
        )
        topic = self._audit_topic
        encoded = self.encode(topic=topic, schema_name="io.isthmus.audit.AuditEvent", value=audit)
        forwarded = [
            (h.TRACEPARENT, request.traceparent.encode()),
            (h.CORRELATION_ID, request.correlation_id.encode()),
        ]
        return [OutRecord(topic, event.key.encode(), encoded, forwarded)]


def _version_id(event: PendingEvent) -> str | None:
    version = event.envelope.get("sourceVersion")
    return f"{event.topic}|{event.key}|{version}" if version else None


def _web_api_shape(row: dict[str, Any]) -> dict[str, Any]:
    """A read row with the lookup type annotation copied into ``customeridtype``."""
    shaped = dict(row)
    annotation = row.get("_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname")
    if annotation and not row.get("customeridtype"):
        shaped["customeridtype"] = annotation
    return shaped
