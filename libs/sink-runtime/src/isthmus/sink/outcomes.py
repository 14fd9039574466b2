"""The records a command's outcome produces: result, state, xref pair and audit (pure)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime

from isthmus.kafka.audit import Outcome as AuditOutcome
from isthmus.kafka.audit import audit_output
from isthmus.kafka.records import Output
from isthmus.schemas.xref import cross_reference
from isthmus.sink.errors import CommandFailedError
from isthmus.sink.model import Command, ResultStatus, Success
from isthmus.sink.topics import SinkTopics

SYSTEMS = {"s4": "S4", "d365": "D365"}


def fingerprint(fields: dict[str, str | None]) -> str:
    """SHA-256 (hex) of the normalised fields, key order independent."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _result(
    command: Command, topics: SinkTopics, now: datetime, outcome: Success | CommandFailedError
) -> Output:
    """The result record of a command: SUCCEEDED/DUPLICATE, or REJECTED/FAILED with why."""
    if isinstance(outcome, Success):
        status, target_id, target_ids = outcome.status.value, outcome.target_id, outcome.target_ids
        error_code = None
    else:
        status = "FAILED" if outcome.failure.kafka_class == "retryable" else "REJECTED"
        target_id, target_ids, error_code = None, {}, outcome.code or None
    header = command.header
    value = {
        "commandId": str(header.get("commandId", "")),
        "idempotency": header.get("idempotency")
        or {"sourceSystem": "D365", "sourceId": command.key, "externalReference": ""},
        "targetSystem": SYSTEMS[topics.system],
        "entity": command.entity,
        "status": status,
        "targetId": target_id,
        "targetIds": dict(target_ids),
        "message": outcome.message,
        "errorCode": error_code,
        "httpStatus": outcome.http_status,
        "attempt": command.record.attempt + 1,
        "completedAt": now,
        "correlationId": header.get("correlationId") or command.record.correlation_id,
    }
    return Output(topic=topics.results(command.entity), key=command.key, value=value)


@dataclass(frozen=True)
class OutcomeRecords:
    """The records a sink writes for each outcome of a command, for one sink's topics."""

    topics: SinkTopics
    service: str

    def succeeded(
        self, command: Command, success: Success, *, now: datetime, latency_ms: float = 0.0
    ) -> list[Output]:
        """Result, state, xref links (both directions) and the audit event of a done command."""
        topics = self.topics
        outputs = [_result(command, topics, now, success)]
        if success.state_key is not None:
            fields = dict(success.state_fields)
            state = {
                "system": SYSTEMS[topics.system],
                "entity": command.entity,
                "key": success.state_key,
                "fields": fields,
                "fingerprint": fingerprint(fields),
                "version": success.version,
                "source": "WRITE",
                "observedAt": now,
                "deleted": False,
            }
            outputs.append(
                Output(topic=topics.state(command.entity), key=success.state_key, value=state)
            )
        for link in success.xref:
            value = cross_reference(
                link.entity,
                d365_id=link.d365_id,
                s4_id=link.s4_id,
                created_by=link.created_by,
                flow=command.header.get("flow"),
                linked_at=now,
            )
            for key in (f"{link.entity}:{link.d365_id}", f"{link.entity}:s4:{link.s4_id}"):
                outputs.append(Output(topic=topics.xref, key=key, value=value))
        duplicate = success.status is ResultStatus.DUPLICATE
        what = "found" if duplicate else "written"
        outputs.append(
            self._audit(
                command,
                outcome=AuditOutcome.DUPLICATE if duplicate else AuditOutcome.SUCCEEDED,
                what=f"{topics.system} {command.entity} {what} in {latency_ms:.0f} ms",
                now=now,
                target_id=success.target_id,
            )
        )
        return outputs

    def dead_lettered(
        self,
        command: Command,
        failure: CommandFailedError,
        *,
        now: datetime,
        latency_ms: float = 0.0,
    ) -> list[Output]:
        """The REJECTED (or FAILED, after retries) result and the audit of a dead-lettered
        command."""
        result = _result(command, self.topics, now, failure)
        what = f"dead-lettered after {latency_ms:.0f} ms"
        return [result, self._failed(command, failure, AuditOutcome.DEAD_LETTERED, what, now)]

    def retried(
        self,
        command: Command,
        failure: CommandFailedError,
        *,
        now: datetime,
        latency_ms: float = 0.0,
    ) -> list[Output]:
        """The audit event of a command sent to a retry topic."""
        what = f"failed after {latency_ms:.0f} ms, retried"
        return [self._failed(command, failure, AuditOutcome.RETRIED, what, now)]

    def _failed(
        self,
        command: Command,
        failure: CommandFailedError,
        outcome: AuditOutcome,
        what: str,
        now: datetime,
    ) -> Output:
        what = f"{self.topics.system} {command.entity} {what}"
        return self._audit(command, outcome=outcome, what=what, now=now, failure=failure)

    def _audit(
        self,
        command: Command,
        *,
        outcome: AuditOutcome,
        what: str,
        now: datetime,
        target_id: str | None = None,
        failure: CommandFailedError | None = None,
    ) -> Output:
        output = audit_output(
            record=command.record,
            service=self.service,
            what=what,
            stage="sink",
            outcome=outcome,
            flow=command.header.get("flow"),
            entity=command.entity,
            target_id=target_id,
            error_class=failure.failure.value if failure else None,
            error=failure.message if failure else None,
            raw_value=command.raw_value,
            now=now,
        )
        return replace(output, topic=self.topics.audit)
