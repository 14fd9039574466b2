"""The transformer's handler: one source record to its commands, a DLQ copy, and one audit event.

Outcomes per record (each with exactly one AuditEvent in the same transaction):

- every matching flow mapped and validated → one command per flow, audit SUCCEEDED;
- no enabled flow matched (other event type, false condition, echo of our own write) → audit
  SKIPPED;
- undecodable bytes, a failing trigger condition or key, or rule violations → the source record
  to the DLQ with every violated rule in ``isthmus_error_message`` and
  ``isthmus_flow_violations``, audit DEAD_LETTERED;
- only cross references missing (the prerequisite may still be in flight) →
  ``PrerequisiteMissingError`` naming the ``xref.ids`` keys it awaits: the runtime's retry tier
  holds it until the link arrives (or its delay ends), and from the last tier the DLQ with a
  "prerequisite missing" reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from isthmus.kafka import failures
from isthmus.kafka import headers as h
from isthmus.kafka.audit import Outcome, audit_output
from isthmus.kafka.catalogue import Catalogue
from isthmus.kafka.errors import ErrorClass
from isthmus.kafka.records import Output, Record
from isthmus.kafka.routing import Routes
from isthmus.mapping import Flow, LookupPort, MappingError, Violation
from isthmus.transformer.core.commands import VIOLATIONS_HEADER, command_output, flow_name
from isthmus.transformer.core.dispatch import FlowSet
from isthmus.transformer.core.events import SourceEvent
from isthmus.transformer.core.lookups import RecordingLookups
from isthmus.transformer.core.writes import with_write_fields, write_fields
from isthmus.transformer.errors import PrerequisiteMissingError

SERVICE = "transformer"
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Rejection:
    """Why a record goes to the DLQ: the reason text, its class and the violated rules."""

    reason: str
    error_class: ErrorClass = ErrorClass.INVALID
    stage: str = "map"
    violations: tuple[Violation, ...] = ()
    flow: str | None = None


class TransformHandler:
    """Maps each record with the flow set in service when it is read (see the module docstring)."""

    def __init__(
        self,
        *,
        flows: Callable[[], FlowSet],
        lookups: LookupPort,
        routes: Routes,
        ignore_origins: Iterable[str] = (),
        clock: Clock | None = None,
        topics: Catalogue | None = None,
    ) -> None:
        """``topics`` (the topic catalogue) names the entity of a source topic in audit lines."""
        self._flows = flows
        self._topics = topics
        self._lookups = lookups
        self._routes = routes
        self._ignore = tuple(ignore_origins)
        self._clock = clock or (lambda: datetime.now(UTC))

    def __call__(self, record: Record[Any, Any], /) -> Sequence[Output]:
        """Handle one record; see the module docstring for the outcomes.

        Raises:
            PrerequisiteMissingError: only cross references are missing and a retry tier is left.
        """
        source: SourceEvent = record.value
        if source.error is not None or source.value is None:
            reason = f"undecodable record: {type(source.error).__name__}: {source.error}"
            return self._reject(record, Rejection(reason=reason, stage="decode"))
        event = source.value
        flows = source.flows or self._flows()
        try:
            dispatch = flows.dispatch(topic=record.topic, event=event, ignore_origins=self._ignore)
        except MappingError as exc:
            return self._reject(record, Rejection(reason=f"trigger condition failed: {exc}"))
        if not dispatch.flows:
            what = (
                f"no enabled flow for {dispatch.event_type or 'an untyped event'} on {record.topic}"
            )
            return [self._audit(record, what=what, outcome=Outcome.SKIPPED)]
        return self._map(record, event, dispatch.flows)

    def _map(self, record: Record[Any, Any], event: Any, flows: Sequence[Flow]) -> Sequence[Output]:
        now = self._clock()
        lookups = RecordingLookups(self._lookups)
        commands: list[Output] = []
        rejected: list[tuple[Flow, Violation]] = []
        unchanged: list[Flow] = []
        for flow in flows:
            result = flow.apply(event, lookups)
            if not result.ok:
                rejected.extend((flow, violation) for violation in result.violations)
                continue
            fields = write_fields(flow=flow, event=event)
            if fields == []:  # nothing this flow may write changed: no command
                unchanged.append(flow)
                continue
            try:
                commands.append(
                    command_output(
                        target=with_write_fields(result.target or {}, fields, flow=flow),
                        flow=flow,
                        record=record,
                        event=event,
                        now=now,
                        lookups=lookups,
                    )
                )
            except MappingError as exc:
                if lookups.misses and self._routes.next_tier(record.delivered_from or record.topic):
                    reason = f"prerequisite missing: {lookups.describe()} not in xref.ids yet"
                    raise PrerequisiteMissingError(
                        f"{flow_name(flow)}: {reason}", awaits=lookups.awaited_keys()
                    ) from exc
                return self._reject(record, Rejection(reason=f"key: {exc}", flow=flow_name(flow)))
        if rejected:
            return self._rejected(record, rejected, lookups)
        if unchanged and not commands:
            names = ", ".join(flow_name(flow) for flow in unchanged)
            what = "no field to write: the change touches only fields the target owns or none"
            return [self._audit(record, what=what, outcome=Outcome.SKIPPED, flow=names)]
        flows = [flow for flow in flows if flow not in unchanged]
        names = ", ".join(flow_name(flow) for flow in flows)
        what = ", ".join(f"{flow.target.command_type} issued" for flow in flows)
        return [*commands, self._audit(record, what=what, outcome=Outcome.SUCCEEDED, flow=names)]

    def _rejected(
        self,
        record: Record[Any, Any],
        rejected: Sequence[tuple[Flow, Violation]],
        lookups: RecordingLookups,
    ) -> Sequence[Output]:
        names = ", ".join(sorted({flow_name(flow) for flow, _ in rejected}))
        violations = tuple(violation for _, violation in rejected)
        if all(lookups.is_missing_prerequisite(v) for v in violations):
            reason = f"prerequisite missing: {lookups.describe()} not in xref.ids yet"
            if self._routes.next_tier(record.delivered_from or record.topic) is not None:
                raise PrerequisiteMissingError(f"{names}: {reason}", awaits=lookups.awaited_keys())
            return self._reject(
                record,
                Rejection(
                    reason=f"{reason} after {record.attempt} retries",
                    error_class=ErrorClass.RETRYABLE,
                    violations=violations,
                    flow=names,
                ),
            )
        listed = "; ".join(f"{v.field} [{v.rule}]: {v.message}" for v in violations)
        reason = f"{len(violations)} rule(s) violated: {listed}"
        return self._reject(record, Rejection(reason=reason, violations=violations, flow=names))

    def _reject(self, record: Record[Any, Any], rejection: Rejection) -> Sequence[Output]:
        source: SourceEvent = record.value
        info = failures.next_error_info(
            previous=h.read_error_info(record.headers),
            error_class=rejection.error_class.value,
            message=rejection.reason,
            stage=rejection.stage,
            topic=record.delivered_from or record.topic,
            partition=record.partition,
            offset=record.offset,
            now=self._clock(),
        )
        headers = dict(failures.dlq_headers(record.headers, info=info))
        headers[VIOLATIONS_HEADER] = json.dumps(
            [{"field": v.field, "rule": v.rule, "message": v.message} for v in rejection.violations]
        ).encode()
        dlq = Output(topic=self._routes.dlq, key=record.raw_key, value=source.raw, headers=headers)
        audit = self._audit(
            record,
            what=f"dead-lettered to {self._routes.dlq}",
            outcome=Outcome.DEAD_LETTERED,
            flow=rejection.flow,
            error_class=rejection.error_class.value,
            error=rejection.reason,
            stage=rejection.stage,
        )
        return [dlq, audit]

    def _audit(
        self,
        record: Record[Any, Any],
        *,
        what: str,
        outcome: Outcome,
        flow: str | None = None,
        error_class: str | None = None,
        error: str | None = None,
        stage: str = "map",
    ) -> Output:
        source: SourceEvent = record.value
        return audit_output(
            record=record,
            service=SERVICE,
            what=what,
            stage=stage,
            outcome=outcome,
            flow=flow,
            entity=self._topics.entity_of(record.topic) if self._topics else None,
            error_class=error_class,
            error=error,
            raw_value=source.raw,
            now=self._clock(),
        )
