"""Measure the sandbox: requests/s for a simple GET and for a deep-insert POST over HTTPS.

Run from the repository root:
    uv run python services/sandbox-s4/scripts/bench.py [seconds] [clients]
It starts its own sandbox process (fresh database, local CA) on a free loopback port.
"""

from __future__ import annotations

import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from isthmus.devenv.tls import ensure_local_tls
from isthmus.testing.sandbox_s4 import running_sandbox_s4, sales_order_body

USER = ("ISTHMUS_COMM", "Isthmus-Sandbox-1")
OK_BELOW = 300
ORDER = sales_order_body("BENCH", ("TG11", "2"), ("TG12", "1"))


def _client(base: str, context: ssl.SSLContext) -> httpx.Client:
    client = httpx.Client(
        base_url=base, verify=context, auth=USER, headers={"Accept": "application/json"}
    )
    token = client.head("API_SALES_ORDER_SRV/", headers={"X-CSRF-Token": "Fetch"}).headers[
        "x-csrf-token"
    ]
    client.headers["X-CSRF-Token"] = token
    return client


def _run(
    name: str, clients: list[httpx.Client], call: Callable[[httpx.Client], int], seconds: float
) -> None:
    counts = [0] * len(clients)
    errors = [0] * len(clients)
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        while time.monotonic() < stop:
            if call(clients[index]) < OK_BELOW:
                counts[index] += 1
            else:
                errors[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    print(
        f"{name}: {sum(counts) / elapsed:.0f} requests/s ({sum(counts)} ok, {sum(errors)} errors, "
        f"{len(clients)} clients, {elapsed:.1f} s)"
    )


def main() -> None:
    args = [*sys.argv[1:], "", ""]
    seconds = float(args[0] or 10.0)
    concurrency = int(args[1] or 4)
    folder = Path(tempfile.mkdtemp(prefix="sandbox-s4-bench-"))
    tls = ensure_local_tls(folder / "tls")
    with running_sandbox_s4(folder, tls) as sandbox:
        base = f"{sandbox.base_url}/sap/opu/odata/sap/"
        context = sandbox.ssl_context()
        clients = [_client(base, context) for _ in range(concurrency)]
        _run(
            "GET A_Product('TG11')",
            clients,
            lambda c: c.get("API_PRODUCT_SRV/A_Product('TG11')").status_code,
            seconds,
        )
        _run(
            "POST A_SalesOrder (deep insert, 2 items)",
            clients,
            lambda c: c.post("API_SALES_ORDER_SRV/A_SalesOrder", json=ORDER).status_code,
            seconds,
        )
        for client in clients:
            client.close()


if __name__ == "__main__":
    main()
