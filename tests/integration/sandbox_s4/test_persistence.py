"""Process life: state in SQLite survives a restart; the sandbox exits with its parent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from isthmus.devenv.ports import free_port, wait_port_closed
from isthmus.devenv.process import ManagedProcess
from isthmus.testing.sandbox_s4 import COMM_PASSWORD, COMM_USER


def start(folder: Path, port: int) -> ManagedProcess:
    process = ManagedProcess(
        name="sandbox-s4-restart",
        argv=[
            sys.executable,
            "-m",
            "isthmus.sandbox_s4",
            "--no-tls",
            "--port",
            str(port),
            "--db",
            str(folder / "state.db"),
        ],
        log_file=folder / "sandbox.log",
    )
    process.start()
    process.wait_http_ready(f"http://127.0.0.1:{port}/_sandbox/health")
    return process


def test_state_survives_a_restart(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/sap/opu/odata/sap/API_SALES_ORDER_SRV/"
    process = start(tmp_path, port)
    try:
        with httpx.Client(
            base_url=base, auth=(COMM_USER, COMM_PASSWORD), headers={"Accept": "application/json"}
        ) as http:
            token = http.head("", headers={"X-CSRF-Token": "Fetch"}).headers["x-csrf-token"]
            created = http.post(
                "A_SalesOrder",
                headers={"X-CSRF-Token": token},
                json={
                    "SalesOrderType": "OR",
                    "SalesOrganization": "1010",
                    "DistributionChannel": "10",
                    "OrganizationDivision": "00",
                    "SoldToParty": "10100001",
                    "to_Item": [{"Material": "TG11", "RequestedQuantity": "5"}],
                },
            )
            assert created.status_code == 201
            number = created.json()["d"]["SalesOrder"]
    finally:
        assert process.stop() is not None
    process = start(tmp_path, port)
    try:
        with httpx.Client(
            base_url=base, auth=(COMM_USER, COMM_PASSWORD), headers={"Accept": "application/json"}
        ) as http:
            order = http.get(f"A_SalesOrder('{number}')").json()["d"]
            assert (order["TotalNetAmount"], order["TransactionCurrency"]) == ("250.000", "EUR")
            assert http.get("A_SalesOrder/$count").text == "1"
    finally:
        process.stop()


def test_sandbox_exits_when_its_parent_is_gone(tmp_path: Path) -> None:
    parent = subprocess.Popen(["sleep", "60"])
    port = free_port()
    process = ManagedProcess(
        name="sandbox-s4-orphan",
        argv=[
            sys.executable,
            "-m",
            "isthmus.sandbox_s4",
            "--no-tls",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "state.db"),
            "--no-seed",
        ],
        log_file=tmp_path / "sandbox.log",
        env={"ISTHMUS_SANDBOX_S4_PARENT_PID": str(parent.pid)},
    )
    process.start()
    try:
        process.wait_http_ready(f"http://127.0.0.1:{port}/_sandbox/health")
        parent.kill()
        parent.wait()
        assert wait_port_closed(port, timeout_s=30)
    finally:
        process.stop()
