"""ASGI mechanics of faults: canned answers, dropped connections, answers lost after commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NoReturn

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isthmus.sandbox_kit.calllog import call_notes

# A header value uvicorn refuses: both its httptools and h11 protocols check values before they
# write a byte, and close the connection when the app fails after starting its response.
UNSENDABLE_HEADER = (b"x-sandbox-lost-answer", b"\r\n")
LOST_ANSWER = "lost_answer"
Headers = list[tuple[bytes, bytes]]


class ConnectionDroppedError(ConnectionAbortedError):
    """Raised after a partial (or no) answer so the server cuts the connection."""


async def respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    """A whole answer; ``content-length`` is added last."""
    pairs = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": body})


async def drop_connection(send: Send, *, headers: Headers, partial_body: bytes) -> NoReturn:
    """Start a 200 answer promising 1000 bytes, send ``partial_body``, then cut the connection.

    Raises:
        ConnectionDroppedError: always.
    """
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": partial_body, "more_body": True})
    raise ConnectionDroppedError("connection dropped by fault injection")


async def lose_answer(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    gateway_answer: Callable[[Send], Awaitable[None]] | None,
) -> None:
    """Let the application process (and commit) the request, then lose its answer.

    The application's answer is discarded and noted for the call log. With a
    ``gateway_answer`` (the rule has a ``gateway_status``) the caller gets that instead;
    otherwise the connection closes before one byte of the answer was sent (the call log
    shows status 0).

    Raises:
        ConnectionDroppedError: no gateway answer.
    """
    notes = call_notes(scope)
    produced = [0]

    async def discard(message: Message) -> None:
        if message["type"] == "http.response.start":
            produced[0] = message["status"]

    if notes is not None:
        notes.fault, notes.app_status = LOST_ANSWER, 0
    await app(scope, receive, discard)
    if notes is not None:
        notes.app_status = produced[0]
    if gateway_answer is not None:
        await gateway_answer(send)
        return
    if notes is not None:
        notes.status = 0
    try:
        await send({"type": "http.response.start", "status": 504, "headers": [UNSENDABLE_HEADER]})
    finally:
        raise ConnectionDroppedError("answer lost after commit by fault injection")


async def buffered_receive(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it to the application again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
