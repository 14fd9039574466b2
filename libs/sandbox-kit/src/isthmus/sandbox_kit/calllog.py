"""The call log: what each received request was and how it was answered, behind a store."""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOTES_KEY = "sandbox_call_notes"
BODY_LIMIT = 65536


@dataclass(frozen=True)
class CallRecord:
    """One request as received and answered.

    ``fault`` names a fault that changed the answer after the application ran
    (``lost_answer``); ``app_status`` is the status the application answered with then.
    ``body`` is the start of the request body (at most the recorder's limit).
    """

    request_id: str
    at: float
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    user: str = ""
    body: bytes = b""
    fault: str | None = None
    app_status: int | None = None


class CallStore(Protocol):
    """Where recorded calls go (memory, SQLite, ...)."""

    def record_call(self, call: CallRecord) -> None:
        """Keep one call."""
        ...


@dataclass
class CallNotes:
    """What the fault machinery inside the recorder tells it about the current call."""

    fault: str | None = None
    app_status: int | None = None
    status: int | None = None


def call_notes(scope: Scope) -> CallNotes | None:
    """The notes of the call being recorded, if a recorder is outside this app."""
    notes = scope.get("state", {}).get(NOTES_KEY)
    return notes if isinstance(notes, CallNotes) else None


@dataclass(frozen=True)
class CallFilter:
    """Which calls the admin API lists; an unset criterion matches every call."""

    method: str | None = None
    path_prefix: str | None = None
    path_contains: str | None = None
    status: int | None = None
    since: float | None = None

    def matches(self, *, method: str, path: str, status: int, at: float) -> bool:
        """Whether a call with these fields meets every set criterion (method upper-cased)."""
        return (
            (self.method is None or method == self.method.upper())
            and (self.path_prefix is None or path.startswith(self.path_prefix))
            and (self.path_contains is None or self.path_contains in path)
            and (self.status is None or status == self.status)
            and (self.since is None or at >= self.since)
        )

    def select(self, calls: Iterable[CallRecord]) -> list[CallRecord]:
        """The matching calls, in their order."""
        return [
            c for c in calls if self.matches(method=c.method, path=c.path, status=c.status, at=c.at)
        ]


@dataclass
class InMemoryCallStore:
    """A bounded list of calls in memory (newest last)."""

    size: int
    _calls: deque[CallRecord] = field(init=False)

    def __post_init__(self) -> None:
        self._calls = deque(maxlen=self.size)

    def record_call(self, call: CallRecord) -> None:
        """Keep one call, forgetting the oldest beyond ``size``."""
        self._calls.append(call)

    def calls(self) -> list[CallRecord]:
        """Every kept call, oldest first."""
        return list(self._calls)

    def clear(self) -> None:
        """Forget every call."""
        self._calls.clear()


class CallRecorder:
    """ASGI middleware that records every HTTP call outside ``exempt_prefix`` into a store.

    Args:
        app: the application (usually the fault middleware around the routes).
        store: where the records go.
        exempt_prefix: paths not recorded (the admin API).
        body_limit: how much of the request body a record keeps.
        identify: the caller's name for the record, from the request scope.
        request_id_headers: response headers that carry the call's request id.
        dropped_connection_status: the status recorded when the connection was cut
            (``ConnectionError``); None keeps the status already sent.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: CallStore,
        exempt_prefix: str,
        body_limit: int = BODY_LIMIT,
        identify: Callable[[Scope], str] | None = None,
        request_id_headers: tuple[str, ...] = (),
        dropped_connection_status: int | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.exempt_prefix = exempt_prefix
        self.body_limit = body_limit
        self.identify = identify
        self.request_id_headers = tuple(h.lower().encode() for h in request_id_headers)
        self.dropped_connection_status = dropped_connection_status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the call on, then record it (also when the connection was cut)."""
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        notes = CallNotes()
        scope.setdefault("state", {})[NOTES_KEY] = notes
        sent = [0]
        body = bytearray()

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent[0] = message["status"]
                if self.request_id_headers:
                    headers = list(message.get("headers", []))
                    headers += [(h, request_id.encode()) for h in self.request_id_headers]
                    message = {**message, "headers": headers}
            await send(message)

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < self.body_limit:
                body.extend(message.get("body", b"")[: self.body_limit - len(body)])
            return message

        try:
            await self.app(scope, recording_receive, recording_send)
        except ConnectionError:
            if self.dropped_connection_status is not None:
                sent[0] = self.dropped_connection_status
            raise
        finally:
            self.store.record_call(
                CallRecord(
                    request_id=request_id,
                    at=time.time(),
                    method=scope["method"],
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=sent[0] if notes.status is None else notes.status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    user=self.identify(scope) if self.identify else "",
                    body=bytes(body),
                    fault=notes.fault,
                    app_status=notes.app_status,
                )
            )
