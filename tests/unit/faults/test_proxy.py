"""The fault proxy against a real echo server on 127.0.0.1: bytes, latency, stalls, cuts, resets.

Timing is asserted only from below: a fault must delay at least this much, never at most.
"""

from __future__ import annotations

import random
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.faults.proxy import FaultProxy

pytestmark = pytest.mark.unit

_STALL_S = 0.3  # how long a stalled read waits before the test calls it stalled
_EARLY_S = 0.01  # a timer may fire this much early on a coarse clock


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        try:
            while data := sock.recv(65536):
                sock.sendall(data)
        except OSError:
            pass  # the proxy reset or cut the connection


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def proxy(echo_port: int) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", echo_port, seed=7) as started:
        yield started


def _client(proxy: FaultProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=5)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"EOF after {len(data)} of {size} bytes")
        data += chunk
    return data


def _round_trip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    return _recv_exactly(sock, len(payload))


def _eventually(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_bytes_pass_unchanged_both_ways_and_the_eof_follows_them(proxy: FaultProxy) -> None:
    payload = random.Random(1).randbytes(256 * 1024)  # noqa: S311 - test data
    with _client(proxy) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received == payload
    stats = proxy.stats()
    assert (stats.bytes_to_upstream, stats.bytes_to_client) == (len(payload), len(payload))
    _eventually(lambda: proxy.stats().open_connections == 0)


def test_counters_count_connections_and_bytes_each_way(proxy: FaultProxy) -> None:
    with _client(proxy) as first, _client(proxy) as second:
        assert _round_trip(first, b"hello") == b"hello"
        assert _round_trip(second, b"abc") == b"abc"
        stats = proxy.stats()
        assert (stats.connections, stats.open_connections) == (2, 2)
        assert (stats.bytes_to_upstream, stats.bytes_to_client, stats.resets) == (8, 8, 0)
    _eventually(lambda: proxy.stats().open_connections == 0)
    assert proxy.stats().connections == 2


def test_latency_delays_each_direction_of_a_round_trip(proxy: FaultProxy) -> None:
    with _client(proxy) as sock:
        assert _round_trip(sock, b"warm") == b"warm"
        proxy.latency_ms = 150
        started = time.monotonic()
        assert _round_trip(sock, b"ping") == b"ping"
        elapsed = time.monotonic() - started
    assert elapsed >= 2 * 0.150 - _EARLY_S


def test_jittered_latency_keeps_the_order_of_bytes_in_a_connection(proxy: FaultProxy) -> None:
    proxy.latency_ms, proxy.jitter_ms = 20, 20
    messages = [f"<{index}>".encode() for index in range(60)]
    with _client(proxy) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for message in messages:
            sock.sendall(message)
        assert _recv_exactly(sock, sum(map(len, messages))) == b"".join(messages)


def test_bandwidth_limits_the_rate_each_way(proxy: FaultProxy) -> None:
    proxy.bandwidth_bytes_per_s = 20_000
    payload = bytes(10_000)
    with _client(proxy) as sock:
        started = time.monotonic()
        assert _round_trip(sock, payload) == payload
        elapsed = time.monotonic() - started
    # Slices of 1000 bytes, one every 50 ms: the last one leaves 450 ms after the first.
    assert elapsed >= 0.45 - _EARLY_S


def test_a_blackhole_holds_bytes_and_stalls_new_connections_until_resumed(
    proxy: FaultProxy,
) -> None:
    with _client(proxy) as open_before:
        assert _round_trip(open_before, b"ping") == b"ping"
        proxy.pause()
        assert proxy.blackhole
        open_before.sendall(b"held")
        with _client(proxy) as opened_during:  # accepted, but not connected upstream yet
            opened_during.sendall(b"waiting")
            for sock in (open_before, opened_during):
                sock.settimeout(_STALL_S)
                with pytest.raises(TimeoutError):
                    sock.recv(16)
                sock.settimeout(5)
            assert proxy.stats().bytes_to_upstream == 4
            proxy.resume()
            assert _recv_exactly(open_before, 4) == b"held"
            assert _recv_exactly(opened_during, 7) == b"waiting"
    assert proxy.stats().connections == 2


def test_cut_closes_every_open_connection_and_new_ones_still_work(proxy: FaultProxy) -> None:
    with _client(proxy) as first, _client(proxy) as second:
        assert _round_trip(first, b"one") == b"one"
        assert _round_trip(second, b"two") == b"two"
        proxy.cut()
        assert _closed_by_peer(first)
        assert _closed_by_peer(second)
    _eventually(lambda: proxy.stats().open_connections == 0)
    with _client(proxy) as third:
        assert _round_trip(third, b"three") == b"three"


@pytest.mark.parametrize(
    ("fault", "payload", "bytes_to_upstream"),
    [
        pytest.param("reset_probability", b"doomed", 0, id="reset_at_the_first_chunk"),
        pytest.param("answer_loss_probability", b"delivered", 9, id="lost_answer_reaches_upstream"),
    ],
)
def test_a_fault_of_probability_one_resets_before_the_client_reads_and_then_clears(
    proxy: FaultProxy, fault: str, payload: bytes, bytes_to_upstream: int
) -> None:
    setattr(proxy, fault, 1.0)
    with _client(proxy) as sock:
        sock.sendall(payload)
        with pytest.raises(ConnectionResetError):
            sock.recv(16)
    stats = proxy.stats()
    assert (stats.resets, stats.bytes_to_upstream, stats.bytes_to_client) == (
        1,
        bytes_to_upstream,
        0,
    )
    setattr(proxy, fault, 0.0)
    with _client(proxy) as sock:
        assert _round_trip(sock, b"fine") == b"fine"


def test_the_port_is_known_once_started_and_stop_is_idempotent(echo_port: int) -> None:
    proxy = FaultProxy("127.0.0.1", echo_port)
    with pytest.raises(RuntimeError, match="not started"):
        _ = proxy.port
    proxy.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            proxy.start()
        assert proxy.port > 0
    finally:
        proxy.stop()
    proxy.stop()
