"""Connector benchmark: Dataverse upserts one-by-one vs batched + concurrent, and under throttling.

Starts the Dataverse sandbox over HTTPS with 20 ms injected latency on every Web API call and
prints upserts/s for each mode, their ratio (target at least 10x), and how the governor behaves
at low service-protection limits. Run: ``uv run python tests/bench/connectors/bench_connectors.py``.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.d365 import D365Settings, DataverseClient
from isthmus.connectors.d365.auth import TokenProvider
from isthmus.connectors.d365.keys import key_segment
from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.multipart import BatchOperation
from isthmus.connectors.retry import RetryPolicy
from isthmus.devenv.tls import ensure_local_tls
from isthmus.testing.sandbox_d365 import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORG_URL,
    TENANT_ID,
    SandboxD365,
    running_sandbox_d365,
)

LATENCY_MS = 20
SERIAL_UPSERTS = 100
BATCHED_UPSERTS = 3000
BATCH_SIZE = 100
CONCURRENT_BATCHES = 4
THROTTLE = {"requests": 150, "window_s": 3.0, "concurrency": 8}
THROTTLED_SECONDS = 12


def client(sandbox: SandboxD365, limits: BudgetLimits) -> tuple[DataverseClient, ApiGovernor]:
    """A Dataverse client with its own governor configured with ``limits``."""
    settings = D365Settings(
        environment_url=sandbox.base_url,
        scope=f"{ORG_URL}/.default",
        tenant_id=TENANT_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        authority_host=sandbox.base_url,
        ca_bundle=sandbox.ca_file,
        limits=limits,
        retry=RetryPolicy(deadline_seconds=120, max_attempts=50),
    )
    governor = ApiGovernor(credential=f"bench-{uuid.uuid4()}", limits=limits)
    connected = DataverseClient.connect(
        settings=settings, governor=governor, token_provider=TokenProvider(settings=settings)
    )
    return connected, governor


async def serial(dv: DataverseClient, n: int) -> float:
    """Upserts/s, one request at a time."""
    started = time.perf_counter()
    for i in range(n):
        await dv.upsert("accounts", {"accountnumber": f"S-{i}"}, {"name": f"Serial {i}"})
    return n / (time.perf_counter() - started)


async def batched(dv: DataverseClient, n: int) -> float:
    """Upserts/s, ``BATCH_SIZE`` per $batch and ``CONCURRENT_BATCHES`` batches in flight."""
    ops = [
        BatchOperation(
            "PATCH",
            dv.entity_path(f"accounts{key_segment({'accountnumber': f'P-{i}'})}"),
            body={"name": f"Batched {i}"},
        )
        for i in range(n)
    ]
    chunks = [ops[i : i + BATCH_SIZE] for i in range(0, n, BATCH_SIZE)]
    gate = asyncio.Semaphore(CONCURRENT_BATCHES)

    async def send(chunk: list[BatchOperation]) -> None:
        async with gate:
            (await dv.batch(chunk, continue_on_error=True)).raise_for_errors()

    started = time.perf_counter()
    await asyncio.gather(*(send(c) for c in chunks))
    return n / (time.perf_counter() - started)


async def throttled(dv: DataverseClient, governor: ApiGovernor, seconds: float) -> list[int]:
    """Concurrent one-by-one upserts for ``seconds``; completions per second."""
    per_second: list[int] = [0] * int(seconds)
    started = time.monotonic()
    counter = iter(range(10**9))

    async def worker() -> None:
        while (elapsed := time.monotonic() - started) < seconds:
            i = next(counter)
            await dv.upsert("accounts", {"accountnumber": f"T-{i}"}, {"name": f"Throttled {i}"})
            slot = int(time.monotonic() - started)
            if slot < len(per_second):
                per_second[slot] += 1
            del elapsed

    await asyncio.gather(*(worker() for _ in range(governor.limits.max_concurrency)))
    return per_second


def report_throttled(label: str, series: list[int], governor: ApiGovernor, limit: float) -> None:
    """Print one throttling run: per-second series, steady rate vs limit, 429s."""
    steady = series[len(series) // 2 :]
    mean = statistics.mean(steady)
    spread = statistics.pstdev(steady) / mean if mean else 0.0
    print(f"  {label}: upserts/s per second {series}")
    print(
        f"    steady {mean:.1f}/s = {mean / limit:.0%} of the limit {limit:.1f}/s, "
        f"variation {spread:.0%}, 429s {governor.stats.throttled}, "
        f"concurrency limit now {governor.limit.current}, max in flight "
        f"{governor.stats.max_in_flight}"
    )


async def run(sandbox: SandboxD365) -> None:
    sandbox.admin.add_fault(kind="latency", path="/api/data/v9.2/*", latency_ms=LATENCY_MS)
    plenty = BudgetLimits(max_concurrency=52)
    dv, _ = client(sandbox, plenty)
    async with dv:
        await dv.retrieve("accounts", {"accountnumber": "C-10001"})  # token + connection warm-up
        one = await serial(dv, SERIAL_UPSERTS)
        many = await batched(dv, BATCHED_UPSERTS)
    print(f"Dataverse sandbox, {LATENCY_MS} ms injected latency per call")
    print(f"  one-by-one upserts:            {one:8.1f} /s")
    print(f"  batched ({BATCH_SIZE}) x {CONCURRENT_BATCHES} concurrent:  {many:8.1f} /s")
    print(f"  ratio batched+concurrent / one-by-one: {many / one:.1f}x (target >= 10x)")
    await throttling(sandbox)


async def throttling(sandbox: SandboxD365) -> None:
    requests, window = int(THROTTLE["requests"]), float(THROTTLE["window_s"])
    sandbox.admin.set_throttling(
        requests=requests,
        execution_ms=10_000_000,
        window_s=window,
        concurrency=int(THROTTLE["concurrency"]),
    )
    limit = requests / window
    print(
        f"Service protection at {requests} requests / {window:g} s "
        f"({limit:.1f}/s), {THROTTLE['concurrency']} concurrent"
    )
    configured = BudgetLimits(
        requests_per_window=requests,
        window_seconds=window,
        execution_seconds_per_window=None,
        max_concurrency=int(THROTTLE["concurrency"]),
    )
    discovering = BudgetLimits(max_concurrency=int(THROTTLE["concurrency"]))
    for label, limits in (
        ("governor told the limits", configured),
        ("governor discovering them (429 + Retry-After)", discovering),
    ):
        await asyncio.sleep(window)  # let the sandbox's window empty
        dv, governor = client(sandbox, limits)
        async with dv:
            series = await throttled(dv, governor, THROTTLED_SECONDS)
        report_throttled(label, series, governor, limit)


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # retries are expected here; keep the figures clean
    with (
        tempfile.TemporaryDirectory(prefix="bench-connectors-") as folder,
        running_sandbox_d365(Path(folder), ensure_local_tls(Path(folder) / "tls")) as sandbox,
    ):
        asyncio.run(run(sandbox))


if __name__ == "__main__":
    main()
