"""The whole local system for the suites that run every service as a process (e2e, faults)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from rich.console import Console

from isthmus.devenv.demo import DemoDriver, DemoSettings
from isthmus.devenv.ports import free_port
from isthmus.devenv.system import SystemConfig, SystemPorts, integration_user_id
from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4

__all__ = ["demo_driver", "reset_sandboxes", "system_config", "unwire_sandboxes"]


def reset_sandboxes(d365: SandboxD365, s4: SandboxS4) -> None:
    """Both sandboxes empty and seeded, Dataverse's service protection out of the way."""
    d365.admin.reset()
    d365.admin.set_throttling(
        requests=10_000_000, execution_ms=1_000_000_000, window_s=300, concurrency=52
    )
    s4.admin.reset(seed=True)


def unwire_sandboxes(d365: SandboxD365) -> None:
    """Remove the webhook steps an earlier suite registered (their ingress is gone).

    The S/4 subscription needs nothing: registering it again under its name replaces it.
    """
    with httpx.Client(base_url=f"{d365.base_url}/_sandbox", verify=d365.verify) as admin:
        for step in admin.get("/webhooks").raise_for_status().json():
            admin.delete(f"/webhooks/{step['sdkmessageprocessingstepid']}").raise_for_status()


def system_config(
    *, root: Path, bootstrap_servers: str, d365: SandboxD365, s4: SandboxS4
) -> SystemConfig:
    """The services' configuration against these sandboxes, each service on a free port."""
    return SystemConfig(
        root=root,
        bootstrap_servers=bootstrap_servers,
        d365_url=d365.base_url,
        s4_url=s4.base_url,
        ca_file=d365.ca_file,
        d365_user_id=integration_user_id(d365_url=d365.base_url, ca_file=d365.ca_file),
        ports=SystemPorts(
            ingress=free_port(),
            ingress_metrics=free_port(),
            transformer=free_port(),
            sap_sink=free_port(),
            d365_sink=free_port(),
        ),
    )


def demo_driver(config: SystemConfig, *, customers: int = 2) -> DemoDriver:
    """The demo driver as the suites' load generator (its output kept off the terminal)."""
    return DemoDriver(
        d365_url=config.d365_url,
        s4_url=config.s4_url,
        ca_file=config.ca_file,
        bootstrap_servers=config.bootstrap_servers,
        out=Console(file=io.StringIO(), width=200),
        settings=DemoSettings(customers=customers),
    )
