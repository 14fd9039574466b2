"""A TCP proxy on 127.0.0.1 that delays, throttles, resets, stalls or cuts what it forwards.

The proxy runs its own asyncio loop in a daemon thread, so a synchronous test or scenario sets
faults while its clients keep talking through it. Every fault applies to both directions and
takes effect at the next chunk. Bytes keep their order within a connection: each direction
has one queue and one sender, and latency is a due time on each chunk, so a delayed chunk
holds back the ones behind it instead of being overtaken.

A blackhole holds bytes rather than dropping them: a real partition loses packets, but TCP
retransmits them once the path heals, so the peers see a stall followed by every byte, in
order. Connections accepted during a blackhole are connected upstream only when it lifts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_QUEUE_CHUNKS = 64  # per direction: a stalled or throttled sender pushes back on its reader
_SLICES_PER_S = 20  # a throttled chunk is written in slices, so the rate is smooth
_CALL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ProxyStats:
    """Counters since start: connections accepted and open, bytes forwarded, resets sent."""

    connections: int
    open_connections: int
    bytes_to_upstream: int
    bytes_to_client: int
    resets: int


def _linger_zero(writer: asyncio.StreamWriter) -> None:
    """Make the next close of ``writer``'s socket send an RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _Link:
    """One client connection, its upstream connection and the tasks between them."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.writers = [client]
        self.tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as one of this link's tasks (cancelled when the link closes)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("fault proxy connection task failed", exc_info=error)

    def close(self, *, reset: bool = False) -> None:
        """Drop both sides now; with ``reset`` each peer receives an RST."""
        if self.closed:
            return
        self.closed = True
        for writer in self.writers:
            if reset:
                _linger_zero(writer)
            writer.transport.abort()
        current = asyncio.current_task()
        for task in list(self.tasks):
            if task is not current:
                task.cancel()

    async def finish(self) -> None:
        """Close both sides and wait until their sockets are released."""
        for writer in self.writers:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to the upstream address, with faults set at run time.

    ``latency_ms`` (± ``jitter_ms``) delays each chunk, ``bandwidth_bytes_per_s`` throttles
    each direction of each connection (0 is unlimited), ``reset_probability`` is the chance per
    chunk that the connection is aborted with an RST to both peers, ``answer_loss_probability``
    the chance per chunk from upstream (an answer whose request was delivered) that it is lost
    the same way, ``blackhole`` (or
    ``pause``/``resume``) stalls everything, ``cut`` closes every open connection. Random
    choices come from ``random.Random(seed)``, so a run can be repeated. The methods may be
    called from any thread except the proxy's own.
    """

    def __init__(
        self, upstream_host: str, upstream_port: int, listen_port: int = 0, *, seed: int = 0
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.latency_ms = 0.0
        self.jitter_ms = 0.0
        self.bandwidth_bytes_per_s = 0
        self.reset_probability = 0.0
        self.answer_loss_probability = 0.0
        self._listen_port = listen_port
        self._rng = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
        self._blackhole = False
        self._flowing = asyncio.Event()
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._stopping = False
        self._accepted = 0
        self._to_upstream = 0
        self._to_client = 0
        self._resets = 0

    @property
    def port(self) -> int:
        """The port the proxy listens on (known once started).

        Raises:
            RuntimeError: the proxy has not been started.
        """
        if self._port is None:
            raise RuntimeError("the fault proxy is not started")
        return self._port

    @property
    def blackhole(self) -> bool:
        """True while nothing is forwarded (connections stay open and new ones are accepted)."""
        return self._blackhole

    @blackhole.setter
    def blackhole(self, value: bool) -> None:
        self._blackhole = value
        self._on_loop(self._apply_flow)

    def pause(self) -> None:
        """Start a blackhole."""
        self.blackhole = True

    def resume(self) -> None:
        """End the blackhole: held bytes are delivered in order, stalled connections proceed."""
        self.blackhole = False

    def cut(self) -> None:
        """Close every open connection now; the proxy keeps accepting new ones."""
        self._on_loop(self._cut_all)

    def stats(self) -> ProxyStats:
        """The counters as they are now."""
        return ProxyStats(
            connections=self._accepted,
            open_connections=len(self._links),
            bytes_to_upstream=self._to_upstream,
            bytes_to_client=self._to_client,
            resets=self._resets,
        )

    def start(self) -> FaultProxy:
        """Listen on 127.0.0.1 from a daemon thread; returns once the port is bound.

        Raises:
            RuntimeError: the proxy was already started.
            OSError: the listening port cannot be bound.
        """
        if self._thread is not None:
            raise RuntimeError("the fault proxy was already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name=f"fault-proxy-{self.upstream_port}", daemon=True
        )
        self._thread.start()
        try:
            self._port = asyncio.run_coroutine_threadsafe(self._listen(), loop).result(
                timeout=_CALL_TIMEOUT_S
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close every connection and the listener, then end the thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=_CALL_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_CALL_TIMEOUT_S)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _on_loop(self, action: Callable[[], None]) -> None:
        """Run ``action`` on the proxy's loop and wait for it; before start there is no need."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return

        async def call() -> None:
            action()

        asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=_CALL_TIMEOUT_S)

    def _apply_flow(self) -> None:
        if self._blackhole:
            self._flowing.clear()
        else:
            self._flowing.set()

    def _cut_all(self) -> None:
        for link in list(self._links):
            link.close()

    async def _listen(self) -> int:
        self._apply_flow()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._listen_port)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _shutdown(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.close()
        self._cut_all()
        current = asyncio.current_task()
        while others := asyncio.all_tasks() - {current}:
            _done, pending = await asyncio.wait(others, timeout=_CALL_TIMEOUT_S)
            for task in pending:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The server's callback; the link runs in its own task so a cut never cancels this."""
        link = _Link(writer)
        if self._stopping:
            await link.finish()
            return
        self._accepted += 1
        self._links.add(link)
        try:
            await asyncio.wait({link.spawn(self._connect(link, reader))})
        finally:
            self._links.discard(link)
            await link.finish()

    async def _connect(self, link: _Link, client: asyncio.StreamReader) -> None:
        await self._flowing.wait()  # accepted during a blackhole: stalled until it lifts
        try:
            upstream, upstream_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError as exc:
            logger.warning("fault proxy cannot reach upstream: %s", exc)
            link.close()
            return
        link.writers.append(upstream_writer)
        pumps = {
            link.spawn(self._pump(link, client, upstream_writer, to_upstream=True)),
            link.spawn(self._pump(link, upstream, link.client, to_upstream=False)),
        }
        await asyncio.wait(pumps)

    async def _pump(
        self,
        link: _Link,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        to_upstream: bool,
    ) -> None:
        """Read one direction into its queue, each chunk stamped with its due time."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(_QUEUE_CHUNKS)
        sender = link.spawn(self._send(link, queue, writer, to_upstream=to_upstream))
        try:
            while chunk := await reader.read(_CHUNK):
                if self._loses(to_upstream=to_upstream):
                    self._resets += 1
                    link.close(reset=True)
                    return
                await queue.put((loop.time() + self._delay_s(), chunk))
        except OSError:
            link.close()
            return
        await queue.put(None)
        await asyncio.wait({sender})

    async def _send(
        self,
        link: _Link,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        writer: asyncio.StreamWriter,
        *,
        to_upstream: bool,
    ) -> None:
        """Forward one direction's chunks in order, each at its due time, then the EOF."""
        loop = asyncio.get_running_loop()
        try:
            while (item := await queue.get()) is not None:
                due, chunk = item
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                await self._flowing.wait()
                await self._write(writer, chunk, to_upstream=to_upstream)
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:
            link.close()

    async def _write(
        self, writer: asyncio.StreamWriter, chunk: bytes, *, to_upstream: bool
    ) -> None:
        rate = self.bandwidth_bytes_per_s
        step = max(1, rate // _SLICES_PER_S) if rate > 0 else len(chunk)
        for start in range(0, len(chunk), step):
            piece = chunk[start : start + step]
            if to_upstream:
                self._to_upstream += len(piece)
            else:
                self._to_client += len(piece)
            writer.write(piece)
            await writer.drain()
            if rate > 0:
                await asyncio.sleep(len(piece) / rate)

    def _loses(self, *, to_upstream: bool) -> bool:
        chance = self.reset_probability
        if not to_upstream:
            chance = 1 - (1 - chance) * (1 - self.answer_loss_probability)
        return chance > 0 and self._rng.random() < chance

    def _delay_s(self) -> float:
        delay = self.latency_ms / 1000
        if self.jitter_ms > 0:
            delay += self._rng.uniform(-self.jitter_ms, self.jitter_ms) / 1000
        return max(0.0, delay)
