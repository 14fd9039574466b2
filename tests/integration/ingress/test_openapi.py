"""The committed OpenAPI document is the served one, and fuzzing it finds no 5xx."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import PUBLISH_KEY, REPO, SAP_PASSWORD, SAP_USER, WEBHOOK_KEY, RunningIngress

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_committed_document_equals_the_served_one(ingress: RunningIngress) -> None:
    committed = json.loads((REPO / "docs" / "openapi" / "ingress.json").read_text())
    served = httpx.get(f"{ingress.url}/openapi.json", timeout=30).json()
    assert served == committed, (
        "regenerate: uv run python -m isthmus.ingress.openapi > docs/openapi/ingress.json"
    )


def test_each_parameter_is_declared_once() -> None:
    committed = json.loads((REPO / "docs" / "openapi" / "ingress.json").read_text())
    for path, item in committed["paths"].items():
        for method, operation in item.items():
            declared = [(p["in"], p["name"]) for p in operation.get("parameters", [])]
            assert len(declared) == len(set(declared)), f"{method} {path}: {declared}"


def test_the_webhook_handshake_answers_json(ingress: RunningIngress) -> None:
    with httpx.Client(base_url=ingress.url, timeout=30) as http:
        plain = http.options("/v1/webhooks/sap")
        origin = http.options("/v1/webhooks/sap", headers={"WebHook-Request-Origin": "mesh.test"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/json"
    assert plain.json() == {"allow": ["OPTIONS", "POST"]}
    assert origin.headers["content-type"] == "application/json"
    assert origin.json()["allowedOrigin"] == origin.headers["webhook-allowed-origin"] == "mesh.test"


def _authorised(case) -> dict[str, str]:
    if case.path == "/v1/webhooks/dataverse":
        case.query = {**(case.query or {}), "code": WEBHOOK_KEY}
    headers = dict(case.headers or {})
    if case.path == "/v1/webhooks/sap":
        token = base64.b64encode(f"{SAP_USER}:{SAP_PASSWORD}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    if case.path == "/v1/events/{topic}":
        headers["X-API-Key"] = PUBLISH_KEY
    return headers


def test_fuzzing_the_document_finds_no_server_errors(ingress: RunningIngress) -> None:
    schema = schemathesis.openapi.from_url(f"{ingress.url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]  # Err raises
    assert {op.path for op in operations} >= {
        "/v1/webhooks/dataverse",
        "/v1/webhooks/sap",
        "/v1/events/{topic}",
    }
    for operation in operations:

        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def exercise(case) -> None:
            response = case.call(headers=_authorised(case))
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.path}: {response.status_code} {response.text[:200]}"
                )

        exercise()
    assert failures == []
