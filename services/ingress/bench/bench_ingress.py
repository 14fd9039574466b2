"""``make bench-ingress``: Dataverse webhooks accepted with a Kafka ack vs a bare 204 endpoint.

One private broker (pinned to core 0), two uvicorn servers with the same options (one worker,
no access log, pinned to core 1): the ingress (auth, parse, convert, Avro, produce, wait for
acks=all) and a bare ASGI app answering 204. A closed-loop generator (N keep-alive connections,
pre-encoded requests) posts the same kind of body to each, interleaved, after a warm-up round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from isthmus.devenv.environment import local_kafka
from isthmus.devenv.ports import free_port
from isthmus.devenv.process import ManagedProcess

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "tests" / "integration" / "ingress" / "samples" / "d365-webhook-7.json"
KEY = "bench-key"


def main() -> None:
    """Run both servers against one broker and print requests/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="isthmus-bench-ingress-"))
    broker = local_kafka(root=ROOT, name=f"bench-ingress-{uuid.uuid4().hex[:6]}")
    servers: list[ManagedProcess] = []
    try:
        bootstrap = broker.up().bootstrap_servers
        _pin(broker.pid(), {0})
        admin = AdminClient({"bootstrap.servers": bootstrap})
        created = admin.create_topics(
            [NewTopic("bench.d365.account.events", 6, 1), NewTopic("bench.audit", 6, 1)]
        )
        for future in created.values():
            future.result(30)
        ingress_url, bare_url = _start(servers, bootstrap, workdir)
        pids = {"ingress": servers[0].pid or 0, "bare": servers[1].pid or 0}
        results = asyncio.run(_measure({"ingress": ingress_url, "bare": bare_url}, pids, args))
    finally:
        for server in servers:
            server.stop()
        broker.down()
        shutil.rmtree(broker.data_dir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    _report(results, args)


def _pin(pid: int | None, cores: set[int]) -> None:
    if pid and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > max(cores):
        os.sched_setaffinity(pid, cores)


def _start(servers: list[ManagedProcess], bootstrap: str, workdir: Path) -> tuple[str, str]:
    ingress_port, bare_port = free_port(), free_port()
    route = {
        "topic": "bench.d365.account.events",
        "schema_name": "io.isthmus.d365.AccountEvent",
        "entity_set": "accounts",
        "key": "accountid",
    }
    env = {
        "ISTHMUS_INGRESS_PORT": str(ingress_port),
        "ISTHMUS_INGRESS_METRICS_PORT": str(free_port()),
        "ISTHMUS_INGRESS_LOG_LEVEL": "WARNING",
        "ISTHMUS_INGRESS_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "ISTHMUS_INGRESS_DATAVERSE__AUTH_PAIRS": json.dumps({"code": KEY}),
        "ISTHMUS_INGRESS_DATAVERSE__ROUTES": json.dumps({"account": route}),
        "ISTHMUS_INGRESS_AUDIT_TOPIC": "bench.audit",
        "ISTHMUS_INGRESS_LIMITS__RATE_PER_S": "1000000",
        "ISTHMUS_INGRESS_LIMITS__BURST": "1000000",
    }
    ingress = ManagedProcess(
        name="ingress",
        argv=[sys.executable, "-m", "isthmus.ingress"],
        log_file=workdir / "ingress.log",
        env=env,
    )
    bare = ManagedProcess(
        name="bare",
        argv=[
            sys.executable, "-m", "uvicorn", "bare_app:app", "--host", "127.0.0.1",
            "--port", str(bare_port), "--log-level", "warning", "--no-access-log",
            "--app-dir", str(Path(__file__).parent),
        ],
        log_file=workdir / "bare.log",
    )  # fmt: skip
    for server, port in ((ingress, ingress_port), (bare, bare_port)):
        servers.append(server)
        server.start()
        _pin(server.pid, {1})
        server.wait_http_ready(f"http://127.0.0.1:{port}/healthz")
    return f"http://127.0.0.1:{ingress_port}", f"http://127.0.0.1:{bare_port}"


def _bodies(count: int) -> list[bytes]:
    template = json.loads(SAMPLE.read_text())
    bodies = []
    for _ in range(count):
        account = str(uuid.uuid4())
        template["OperationId"] = str(uuid.uuid4())
        template["PrimaryEntityId"] = account
        template["InputParameters"][0]["value"]["Attributes"][-1]["value"] = account
        bodies.append(json.dumps(template).encode())
    return bodies


async def _run(url: str, seconds: float, clients: int) -> float:
    """Closed loop over keep-alive connections with pre-encoded requests (a cheap generator)."""
    host, port = url.removeprefix("http://").split(":")
    requests = [_request(host, body) for body in _bodies(4096)]
    counts = {"done": 0, "failed": 0}
    deadline = time.monotonic() + seconds

    async def worker(offset: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        index = offset
        try:
            while time.monotonic() < deadline:
                writer.write(requests[index % len(requests)])
                index += clients
                status = await _response_status(reader)
                counts["done" if 200 <= status < 300 else "failed"] += 1  # noqa: PLR2004
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.monotonic() - started
    if counts["failed"]:
        raise RuntimeError(f"{counts['failed']} requests were not accepted")
    return counts["done"] / elapsed


def _request(host: str, body: bytes) -> bytes:
    head = (
        f"POST /v1/webhooks/dataverse?code={KEY} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _response_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return int(lines[0].split(" ")[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(
    urls: dict[str, str], pids: dict[str, int], args: argparse.Namespace
) -> dict[str, list[tuple[float, float]]]:
    """Requests/s and server CPU ms per request, per variant and repetition."""
    for url in urls.values():
        await _run(url, 2.0, args.clients)  # warm-up, discarded
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in urls}
    for _ in range(args.repetitions):
        for name in ("bare", "ingress"):
            before = _cpu_seconds(pids[name])
            rate = await _run(urls[name], args.seconds, args.clients)
            cpu = _cpu_seconds(pids[name]) - before
            results[name].append((rate, 1000 * cpu / (rate * args.seconds)))
    return results


def _report(results: dict[str, list[tuple[float, float]]], args: argparse.Namespace) -> None:
    rates = {name: statistics.median(r for r, _ in runs) for name, runs in results.items()}
    cpus = {name: statistics.median(c for _, c in runs) for name, runs in results.items()}
    print(f"clients={args.clients} seconds={args.seconds} repetitions={args.repetitions}")
    for name, runs in results.items():
        spread = ", ".join(f"{r:.0f}" for r, _ in runs)
        print(
            f"{name:8s} median {rates[name]:8.0f} requests/s ({spread}); "
            f"server CPU {cpus[name]:.3f} ms/request"
        )
    print(f"ratio ingress/bare = {rates['ingress'] / rates['bare']:.3f}")
    print(f"CPU per request ingress/bare = {cpus['ingress'] / cpus['bare']:.1f}x")


if __name__ == "__main__":
    main()
