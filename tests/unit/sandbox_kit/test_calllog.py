"""The call recorder and the lost-answer and dropped-connection mechanics, at ASGI level."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from starlette.types import Message, Receive, Scope, Send

from isthmus.sandbox_kit.calllog import CallFilter, CallRecorder, InMemoryCallStore
from isthmus.sandbox_kit.faults import (
    ConnectionDroppedError,
    buffered_receive,
    drop_connection,
    lose_answer,
    respond,
)

pytestmark = pytest.mark.unit
App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def created(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass
    await respond(send, 201, [(b"content-type", b"application/json")], b"{}")


def _call(app: App, *, path: str = "/api/x", body: bytes = b"") -> list[Message]:
    scope: Scope = {"type": "http", "method": "POST", "path": path, "query_string": b"a=1"}
    chunks = [body[:3], body[3:]]
    sent: list[Message] = []

    async def receive() -> Message:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    async def call() -> None:
        await app(scope, receive, send)

    asyncio.run(call())
    return sent


def _recorder(
    app: App, store: InMemoryCallStore, *, dropped_connection_status: int | None = None
) -> CallRecorder:
    return CallRecorder(
        app,
        store=store,
        exempt_prefix="/_sandbox",
        dropped_connection_status=dropped_connection_status,
    )


def test_records_method_path_query_status_body_and_request_id() -> None:
    store = InMemoryCallStore(size=10)
    recorder = CallRecorder(
        created,
        store=store,
        exempt_prefix="/_sandbox",
        body_limit=4,
        request_id_headers=("req_id",),
        identify=lambda _: "u",
    )
    sent = _call(recorder, body=b"abcdefgh")
    (call,) = store.calls()
    assert (call.method, call.path, call.query, call.status, call.user) == (
        "POST",
        "/api/x",
        "a=1",
        201,
        "u",
    )
    assert call.body == b"abcd"
    assert (b"req_id", call.request_id.encode()) in sent[0]["headers"]
    assert (call.fault, call.app_status) == (None, None)


def test_admin_paths_are_not_recorded_and_the_store_is_bounded() -> None:
    store = InMemoryCallStore(size=2)
    recorder = _recorder(created, store)
    _call(recorder, path="/_sandbox/calls")
    assert store.calls() == []
    for path in ("/a", "/b", "/c"):
        _call(recorder, path=path)
    assert [c.path for c in store.calls()] == ["/b", "/c"]
    store.clear()
    assert store.calls() == []


def test_filter_by_method_path_status_and_time() -> None:
    store = InMemoryCallStore(size=10)
    recorder = _recorder(created, store)
    for path in ("/api/orders", "/api/items"):
        _call(recorder, path=path)
    calls = store.calls()
    assert [c.path for c in CallFilter(path_prefix="/api/o").select(calls)] == ["/api/orders"]
    assert [c.path for c in CallFilter(path_contains="item").select(calls)] == ["/api/items"]
    assert CallFilter(method="post", status=201).select(calls) == calls
    assert CallFilter(method="GET").select(calls) == []
    assert CallFilter(since=calls[-1].at + 1).select(calls) == []


@pytest.mark.parametrize(("dropped_status", "logged"), [(0, 0), (None, 200)])
def test_dropped_connection_status_is_an_option(dropped_status: int | None, logged: int) -> None:
    async def dropping(scope: Scope, receive: Receive, send: Send) -> None:
        await drop_connection(send, headers=[], partial_body=b"{")

    store = InMemoryCallStore(size=10)
    with pytest.raises(ConnectionDroppedError):
        _call(_recorder(dropping, store, dropped_connection_status=dropped_status))
    assert store.calls()[0].status == logged


def test_lost_answer_runs_the_app_and_closes_the_connection() -> None:
    async def losing(scope: Scope, receive: Receive, send: Send) -> None:
        await lose_answer(created, scope, receive, send, gateway_answer=None)

    store = InMemoryCallStore(size=10)
    with pytest.raises(ConnectionDroppedError):
        _call(_recorder(losing, store))
    (call,) = store.calls()
    assert (call.status, call.fault, call.app_status) == (0, "lost_answer", 201)


def test_lost_answer_with_a_gateway_answer() -> None:
    async def gateway(send: Send) -> None:
        await respond(send, 504, [], b"timeout")

    async def losing(scope: Scope, receive: Receive, send: Send) -> None:
        await lose_answer(created, scope, receive, send, gateway_answer=gateway)

    store = InMemoryCallStore(size=10)
    sent = _call(_recorder(losing, store))
    assert (sent[0]["status"], sent[1]["body"]) == (504, b"timeout")
    (call,) = store.calls()
    assert (call.status, call.fault, call.app_status) == (504, "lost_answer", 201)


def test_buffered_body_is_handed_to_the_app_again() -> None:
    seen: list[bytes] = []

    async def peeking(scope: Scope, receive: Receive, send: Send) -> None:
        body, replay = await buffered_receive(receive)
        seen.append(body)
        seen.append((await replay())["body"])
        await respond(send, 200, [], b"")

    _call(peeking, body=b"hello world")
    assert seen == [b"hello world", b"hello world"]
