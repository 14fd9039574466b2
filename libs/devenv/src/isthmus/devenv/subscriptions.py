"""Point the sandboxes' webhooks (Dataverse) and business events (S/4) at the ingress."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx

from isthmus.devenv.system import EVENT_MESH_PASSWORD, EVENT_MESH_USER, WEBHOOK_KEY

# (table, message, filtering attributes): what the shipped flows listen to.
DATAVERSE_STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("salesorder", "Create", ()),
    ("salesorder", "Update", ("statecode", "statuscode")),  # FulfillSalesOrder raises it
    ("invoice", "Update", ("statecode", "statuscode")),  # posting: statecode 2 Paid
    ("account", "Create", ()),
    ("account", "Update", ()),
)
S4_TOPICS = ("*",)  # every business event; the ingress ignores those no flow reads


@dataclass(frozen=True)
class Wiring:
    """What was registered."""

    webhook_steps: list[str]
    s4_subscription: str


def wire_sandboxes(*, d365_url: str, s4_url: str, ingress_url: str, ca_file: Path) -> Wiring:
    """Register every Dataverse webhook step and one S/4 event subscription to the ingress.

    Raises:
        httpx.HTTPStatusError: a sandbox refused a registration.
    """
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca_file)), timeout=60) as client:
        steps = [
            _webhook(client, d365_url, ingress_url, table=table, message=message, attrs=attrs)
            for table, message, attrs in DATAVERSE_STEPS
        ]
        answer = client.post(
            f"{s4_url}/_sandbox/event-subscriptions",
            json={
                "name": "isthmus-ingress",
                "endpoint": f"{ingress_url}/v1/webhooks/sap",
                "topics": list(S4_TOPICS),
                "auth": {"type": "basic", "user": EVENT_MESH_USER, "password": EVENT_MESH_PASSWORD},
                "qos": 1,
            },
        )
        answer.raise_for_status()
    return Wiring(webhook_steps=steps, s4_subscription="isthmus-ingress")


def _webhook(
    client: httpx.Client,
    d365_url: str,
    ingress_url: str,
    *,
    table: str,
    message: str,
    attrs: tuple[str, ...],
) -> str:
    answer = client.post(
        f"{d365_url}/_sandbox/webhooks",
        json={
            "url": f"{ingress_url}/v1/webhooks/dataverse",
            "message": message,
            "table": table,
            "auth_type": "WebhookKey",
            "auth_value": WEBHOOK_KEY,
            "filtering_attributes": list(attrs),
            "mode": 1,
            "images": ["post"],
        },
    )
    answer.raise_for_status()
    return str(answer.json())
