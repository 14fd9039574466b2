"""The four Isthmus services as local processes: their environment, readiness URLs and wiring."""

from __future__ import annotations

import json
import ssl
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from isthmus.devenv.supervisor import ChildSpec

# Defaults of the sandboxes (public, local-only credentials; see their READMEs).
D365_TENANT_ID = "0b1c5e2a-7d4f-4a8e-9c1b-3f5d2e6a7b80"
D365_CLIENT_ID = "51f81489-12ee-4a9e-aaae-a2591f45987d"
D365_CLIENT_SECRET = "sandbox-secret-value"  # noqa: S105 - public sandbox credential
D365_ORG_URL = "https://isthmus.crm4.dynamics.com"
S4_USER = "ISTHMUS_COMM"
S4_PASSWORD = "Isthmus-Sandbox-1"  # noqa: S105 - public sandbox credential
WEBHOOK_KEY = "isthmus-local-webhook-key"
EVENT_MESH_USER, EVENT_MESH_PASSWORD = "isthmus-events", "isthmus-local-events"
PUBLISH_API = "api://isthmus-ingress"  # the publish API's resource in the Entra emulator
MASTER_STATE_TOPICS = ("state.d365.account", "state.s4.businesspartner")


@dataclass(frozen=True)
class SystemPorts:
    """The loopback ports of the services (0 is never used: pass free ports in tests)."""

    ingress: int = 8090
    ingress_metrics: int = 9490
    transformer: int = 8085
    sap_sink: int = 8080
    d365_sink: int = 8083


@dataclass(frozen=True)
class SystemConfig:
    """Everything the service processes need to find the broker, the sandboxes and each other."""

    root: Path
    bootstrap_servers: str
    d365_url: str
    s4_url: str
    ca_file: Path
    d365_user_id: str
    ports: SystemPorts = field(default_factory=SystemPorts)
    registry_url: str | None = None
    retry_delays_ms: tuple[int, ...] | None = None
    dependency_wait_s: int | None = None

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.ingress}"


def service_specs(*, config: SystemConfig) -> list[ChildSpec]:
    """Ingress, transformer, sap-sink and d365-sink, in start order."""
    return [
        _spec("ingress", "isthmus.ingress", _ingress_env(config), config.ingress_url),
        _spec(
            "transformer",
            "isthmus.transformer",
            _transformer_env(config),
            f"http://127.0.0.1:{config.ports.transformer}",
        ),
        _spec(
            "sap-sink",
            "isthmus.sap_sink",
            _sap_sink_env(config),
            f"http://127.0.0.1:{config.ports.sap_sink}",
        ),
        _spec(
            "d365-sink",
            "isthmus.d365_sink",
            _d365_sink_env(config),
            f"http://127.0.0.1:{config.ports.d365_sink}",
        ),
    ]


def _spec(name: str, module: str, env: dict[str, str], base: str) -> ChildSpec:
    return ChildSpec(
        name=name,
        argv=[sys.executable, "-m", module],
        ready_url=f"{base}/readyz",
        env=env,
        ready_timeout_s=120.0,
    )


def _common(config: SystemConfig, prefix: str) -> dict[str, str]:
    env = {
        f"{prefix}KAFKA__BOOTSTRAP_SERVERS": config.bootstrap_servers,
        f"{prefix}SCHEMAS__SCHEMAS_DIR": str(config.root / "schemas"),
    }
    if config.registry_url:
        env[f"{prefix}SCHEMAS__REGISTRY_URL"] = config.registry_url
    if config.retry_delays_ms:
        env[f"{prefix}PROCESSOR__RETRY_DELAYS_MS"] = json.dumps(list(config.retry_delays_ms))
    return env


def _d365_client(config: SystemConfig, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}D365__ENVIRONMENT_URL": config.d365_url,
        f"{prefix}D365__SCOPE": f"{D365_ORG_URL}/.default",
        f"{prefix}D365__TENANT_ID": D365_TENANT_ID,
        f"{prefix}D365__CLIENT_ID": D365_CLIENT_ID,
        f"{prefix}D365__CLIENT_SECRET": D365_CLIENT_SECRET,
        f"{prefix}D365__AUTHORITY_HOST": config.d365_url,
        f"{prefix}D365__CA_BUNDLE": str(config.ca_file),
    }


def _s4_client(config: SystemConfig, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}S4__BASE_URL": config.s4_url,
        f"{prefix}S4__USER": S4_USER,
        f"{prefix}S4__PASSWORD": S4_PASSWORD,
        f"{prefix}S4__CA_BUNDLE": str(config.ca_file),
    }


def _ingress_env(config: SystemConfig) -> dict[str, str]:
    prefix = "ISTHMUS_INGRESS_"
    return {
        **_common(config, prefix),
        **_d365_client(config, prefix),
        **_s4_client(config, prefix),
        f"{prefix}PORT": str(config.ports.ingress),
        f"{prefix}METRICS_PORT": str(config.ports.ingress_metrics),
        f"{prefix}DATAVERSE__AUTH_PAIRS": json.dumps({"code": WEBHOOK_KEY}),
        f"{prefix}DATAVERSE__INTEGRATION_USER": config.d365_user_id,
        f"{prefix}SAP__USER": EVENT_MESH_USER,
        f"{prefix}SAP__PASSWORD": EVENT_MESH_PASSWORD,
        f"{prefix}SAP__INTEGRATION_USER": S4_USER,
        f"{prefix}STATE_TOPICS": json.dumps(list(MASTER_STATE_TOPICS)),
        # Publishers authenticate with the Entra emulator's tokens (scope api://isthmus-ingress).
        f"{prefix}PUBLISH__JWKS_URL": f"{config.d365_url}/{D365_TENANT_ID}/discovery/v2.0/keys",
        f"{prefix}PUBLISH__ISSUERS": json.dumps([f"https://sts.windows.net/{D365_TENANT_ID}/"]),
        f"{prefix}PUBLISH__AUDIENCES": json.dumps([PUBLISH_API]),
        f"{prefix}PUBLISH__CA_FILE": str(config.ca_file),
    }


def _transformer_env(config: SystemConfig) -> dict[str, str]:
    prefix = "ISTHMUS_TRANSFORMER_"
    return {
        **_common(config, prefix),
        f"{prefix}HTTP__PORT": str(config.ports.transformer),
        f"{prefix}FLOWS__DIRECTORY": str(config.root / "flows"),
        f"{prefix}TOPICS_FILE": str(config.root / "deploy" / "topics.yaml"),
    }


def _sink_env(config: SystemConfig, prefix: str, port: int) -> dict[str, str]:
    env = {
        **_common(config, prefix),
        f"{prefix}SINK__HEALTH_PORT": str(port),
        f"{prefix}CATALOGUE": str(config.root / "deploy" / "topics.yaml"),
    }
    if config.dependency_wait_s is not None:
        env[f"{prefix}SINK__DEPENDENCY_WAIT_S"] = str(config.dependency_wait_s)
    return env


def _sap_sink_env(config: SystemConfig) -> dict[str, str]:
    prefix = "ISTHMUS_SAP_SINK_"
    return {
        **_sink_env(config, prefix, config.ports.sap_sink),
        **_s4_client(config, prefix),
        f"{prefix}BILLING_RUN_URL": f"{config.s4_url}/_sandbox/billing-run",
    }


def _d365_sink_env(config: SystemConfig) -> dict[str, str]:
    prefix = "ISTHMUS_D365_SINK_"
    return {**_sink_env(config, prefix, config.ports.d365_sink), **_d365_client(config, prefix)}


def integration_user_id(*, d365_url: str, ca_file: Path) -> str:
    """The Dataverse user id of the integration's application user (``WhoAmI``).

    Raises:
        httpx.HTTPError: the sandbox did not issue a token or answer ``WhoAmI``.
    """
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca_file)), timeout=30) as client:
        token = client.post(
            f"{d365_url}/{D365_TENANT_ID}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": D365_CLIENT_ID,
                "client_secret": D365_CLIENT_SECRET,
                "scope": f"{D365_ORG_URL}/.default",
            },
        )
        token.raise_for_status()
        who = client.get(
            f"{d365_url}/api/data/v9.2/WhoAmI",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        who.raise_for_status()
        return str(who.json()["UserId"])
