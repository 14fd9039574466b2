"""Outside the local profile every service refuses to start with a placeholder secret, naming
the setting, and exits with the configuration error code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from isthmus.telemetry.secrets import CONFIG_EXIT_CODE

pytestmark = pytest.mark.integration

D365 = {
    "D365__ENVIRONMENT_URL": "https://contoso.crm4.dynamics.com",
    "D365__TENANT_ID": "0b1c5e2a-7d4f-4a8e-9c1b-3f5d2e6a7b80",
    "D365__CLIENT_ID": "51f81489-12ee-4a9e-aaae-a2591f45987d",
    "D365__CLIENT_SECRET": "sandbox-secret-value",
}
CASES = {
    "ingress": ("isthmus.ingress", "ISTHMUS_INGRESS_", {}, [
        "ISTHMUS_INGRESS_DATAVERSE__AUTH_PAIRS[code]",
        "ISTHMUS_INGRESS_SAP__PASSWORD",
    ]),
    "transformer": ("isthmus.transformer", "ISTHMUS_TRANSFORMER_", {
        "KAFKA__SASL_PASSWORD": "",
    }, ["ISTHMUS_TRANSFORMER_KAFKA__SASL_PASSWORD"]),
    "sap-sink": ("isthmus.sap_sink", "ISTHMUS_SAP_SINK_", {
        "S4__BASE_URL": "https://s4.example.com",
        "S4__USER": "ISTHMUS_COMM",
        "S4__PASSWORD": "Change-Me",
    }, ["ISTHMUS_SAP_SINK_S4__PASSWORD"]),
    "d365-sink": ("isthmus.d365_sink", "ISTHMUS_D365_SINK_", D365, [
        "ISTHMUS_D365_SINK_D365__CLIENT_SECRET",
    ]),
}  # fmt: skip


@pytest.mark.parametrize("service", CASES)
def test_production_refuses_placeholder_secrets(service: str) -> None:
    module, prefix, settings, offending = CASES[service]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISTHMUS_")}
    env.update({f"{prefix}{name}": value for name, value in settings.items()})
    env["ISTHMUS_PROFILE"] = "production"
    done = subprocess.run(
        [sys.executable, "-m", module],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == CONFIG_EXIT_CODE, done.stderr[-2000:]
    (line,) = [json.loads(x) for x in done.stderr.splitlines() if '"level": "error"' in x]
    message = line["message"]
    assert message.startswith(f"{service} refuses to start with placeholder or empty secrets: ")
    for name in offending:
        assert name in message
    assert "ISTHMUS_PROFILE=local" in message
