"""Nothing refused without a trace: a request refused after its caller authenticated is kept.

Dataverse does not retry a 4xx and Event Mesh drops it, so a refused webhook would simply be
gone. Once a caller has authenticated, a refusal (unknown table, undecodable body, schema
violations, a key the source refuses) is answered 4xx only after two records are acknowledged:

- ``ingress.dlq``: the request body as received, with the reason in the ``isthmus_error_*``
  headers (class, message, stage ``ingest``, route, HTTP status, caller) and the request's
  content type, correlation id and trace;
- ``audit.events``: one ``DEAD_LETTERED`` hop saying why.

When Kafka does not acknowledge them the caller gets a 503 and sends again, so the request is
never lost. Unauthenticated and unauthorised requests are only logged (without their body) and
counted: keeping what anyone can send would let anyone fill the topic.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from isthmus.ingress.adapters.producer import OutRecord
from isthmus.ingress.errors import IngressError
from isthmus.ingress.pipeline import Ingress
from isthmus.kafka import headers as h
from isthmus.kafka.audit import Outcome, audit_value

AUDIT_SCHEMA = "io.isthmus.audit.AuditEvent"
ERROR_ROUTE = "isthmus_error_route"
ERROR_STATUS = "isthmus_error_status"
ERROR_CALLER = "isthmus_error_caller"
CONTENT_TYPE = "content-type"


@dataclass(frozen=True)
class Refusal:
    """One refused, authenticated request: what it was and why it was refused."""

    route: str
    caller: str
    body: bytes
    content_type: str
    traceparent: str
    correlation_id: str
    error: IngressError
    key: str | None = None


class RefusalKeeper:
    """Produces the dead letter and the audit line of a refused request."""

    def __init__(self, *, ingress: Ingress, dlq_topic: str | None, audit_topic: str | None) -> None:
        self._ingress = ingress
        self._dlq_topic = dlq_topic
        self._audit_topic = audit_topic

    @property
    def topic(self) -> str | None:
        """The DLQ topic (None: refusals are only audited)."""
        return self._dlq_topic

    async def keep(self, refusal: Refusal) -> str:
        """Produce both records, wait for Kafka, and return the refusal's request id.

        Raises:
            UnavailableError: Kafka did not acknowledge (answer 503: the caller retries).
        """
        request_id = str(uuid.uuid4())
        key = (refusal.key or request_id).encode()
        records = []
        if self._dlq_topic:
            records.append(
                OutRecord(self._dlq_topic, key, refusal.body, self._headers(refusal, request_id))
            )
        if self._audit_topic:
            value = self._ingress.encode(
                topic=self._audit_topic,
                schema_name=AUDIT_SCHEMA,
                value=_audit_value(refusal, request_id),
            )
            trace = [
                (h.TRACEPARENT, refusal.traceparent.encode()),
                (h.CORRELATION_ID, refusal.correlation_id.encode()),
            ]
            records.append(OutRecord(self._audit_topic, key, value, trace))
        if records:
            await self._ingress.producer.send(records)
        return request_id

    def _headers(self, refusal: Refusal, request_id: str) -> h.Headers:
        error = refusal.error
        text = error.message
        if error.violations:
            text += ": " + "; ".join(error.violations)
        values = {
            h.CE_ID: request_id,
            h.ERROR_CLASS: type(error).__name__,
            h.ERROR_MESSAGE: text[:2_000],
            h.ERROR_STAGE: "ingest",
            h.ERROR_FIRST_FAILURE: dt.datetime.now(dt.UTC).isoformat(),
            ERROR_ROUTE: refusal.route,
            ERROR_STATUS: str(error.status),
            ERROR_CALLER: refusal.caller,
            CONTENT_TYPE: refusal.content_type,
            h.TRACEPARENT: refusal.traceparent,
            h.CORRELATION_ID: refusal.correlation_id,
        }
        return [(name, value.encode()) for name, value in values.items() if value]


def _audit_value(refusal: Refusal, request_id: str) -> dict[str, Any]:
    error = refusal.error
    return audit_value(
        service="ingress",
        what=f"request refused with {error.status} and kept in the DLQ: {error.message}",
        stage=refusal.route,
        outcome=Outcome.DEAD_LETTERED,
        business_key=refusal.key or request_id,
        error_class=type(error).__name__,
        error=error.message[:2_000],
        payload=refusal.body,
        trace=refusal.traceparent.split("-")[1] if "-" in refusal.traceparent else None,
        correlation_id=refusal.correlation_id,
    )
