"""The headers of records the loop reroutes: retry, DLQ and parked-behind records (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from isthmus.kafka import headers as h

PARKED_CLASS = "parked"
"""``isthmus_error_class`` of a record that did not fail but waits behind an earlier one."""

_ROUTING = (h.RETRY_DUE, h.PARKED_BEHIND, h.AWAITS)


def next_error_info(
    *,
    previous: h.ErrorInfo | None,
    error_class: str,
    message: str,
    stage: str,
    topic: str,
    partition: int,
    offset: int,
    now: datetime,
) -> h.ErrorInfo:
    """The error context after one more failure of a record.

    A record read from its source topic is its own origin; one read back from a retry topic
    keeps the origin, first-failure time and attempt count its headers carry. A record that was
    only parked has not failed before, so its first failure is now.
    """
    failed_before = previous is not None and previous.error_class != PARKED_CLASS
    return h.ErrorInfo(
        error_class=error_class,
        message=message,
        stage=stage,
        source_topic=previous.source_topic if previous else topic,
        source_partition=previous.source_partition if previous else partition,
        source_offset=previous.source_offset if previous else offset,
        attempt=(previous.attempt if previous else 0) + (1 if error_class != PARKED_CLASS else 0),
        first_failure=previous.first_failure if previous and failed_before else now,
    )


def inbound_info(
    headers: h.Headers, *, topic: str, partition: int, offset: int, from_retry: bool
) -> h.ErrorInfo | None:
    """The error context a consumed record carries (None for a record that never failed).

    A record read back from a retry topic keeps its origin; a replayed record is back on its
    source topic, so it is its own origin now.
    """
    info = h.read_error_info(headers)
    if info is None or from_retry:
        return info
    return replace(info, source_topic=topic, source_partition=partition, source_offset=offset)


def origin_of(info: h.ErrorInfo | None, *, topic: str, partition: int, offset: int) -> str:
    """``topic/partition/offset`` of the source record: its identity across retries."""
    return info.origin if info is not None else f"{topic}/{partition}/{offset}"


def original_headers(headers: Sequence[tuple[str, bytes | None]] | None) -> h.Headers:
    """The record's own headers, without the error and routing headers the loop added."""
    kept = h.without_prefix(headers, h.ERROR_PREFIX)
    return [(k, v) for k, v in kept if k not in _ROUTING]


def retry_headers(
    headers: Sequence[tuple[str, bytes | None]] | None,
    *,
    info: h.ErrorInfo,
    due_ms: int,
    awaits: Sequence[str] = (),
) -> h.Headers:
    """Headers of a record sent to a retry topic, due at ``due_ms`` (epoch milliseconds) or
    as soon as every key in ``awaits`` is there."""
    routing = {h.RETRY_DUE: str(due_ms).encode()}
    if awaits:
        routing[h.AWAITS] = json.dumps(list(awaits)).encode()
    return h.merge(original_headers(headers), {**info.headers(), **routing})


def awaited(headers: Sequence[tuple[str, bytes | None]] | None) -> list[str]:
    """The table keys a retried record waits for (none for a timed retry)."""
    raw = h.get(headers, h.AWAITS)
    if not raw:
        return []
    try:
        keys = json.loads(raw)
    except ValueError:
        return []
    return [str(k) for k in keys] if isinstance(keys, list) else []


def parked_headers(
    headers: Sequence[tuple[str, bytes | None]] | None,
    *,
    info: h.ErrorInfo,
    head: str,
    due_ms: int,
) -> h.Headers:
    """Headers of a record parked behind ``head`` (the oldest parked record of its key)."""
    return h.merge(
        original_headers(headers),
        {**info.headers(), h.RETRY_DUE: str(due_ms).encode(), h.PARKED_BEHIND: head.encode()},
    )


def dlq_headers(
    headers: Sequence[tuple[str, bytes | None]] | None, *, info: h.ErrorInfo
) -> h.Headers:
    """Headers of a dead-lettered record: its own headers plus the ``isthmus_error_*`` set."""
    return h.merge(original_headers(headers), info.headers())
