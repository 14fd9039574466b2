"""The publish API authenticates every call: bearer tokens of the Entra emulator checked against
its JWKS, or API keys; each topic family needs its app role; refusals say why."""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from confluent_kafka import KafkaException
from cryptography.hazmat.primitives.asymmetric import rsa

from isthmus.testing.kafka import Broker, create_topics
from isthmus.testing.sandbox_d365 import PUBLISH_API, SandboxD365

from .conftest import (
    RunningIngress,
    ingress_process,
    order_event,
    records_for,
)

pytestmark = pytest.mark.integration

D365_TOPIC, S4_TOPIC = "d365.salesorder.events", "s4.salesorder.events"


@pytest.fixture(scope="module")
def strict_ingress(
    kafka_broker: Broker, sandbox_d365: SandboxD365, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningIngress]:
    """An ingress trusting the emulator's tokens with no clock leeway."""
    for topic in (D365_TOPIC, S4_TOPIC):
        with contextlib.suppress(KafkaException):  # an earlier module created it
            create_topics(kafka_broker, topic)
    with ingress_process(
        kafka_broker,
        tmp_path_factory.mktemp("publish-auth"),
        d365=sandbox_d365,
        ISTHMUS_INGRESS_PUBLISH__LEEWAY_S="0",
    ) as running:
        yield running


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _publish_token(sandbox: SandboxD365, **app: str) -> str:
    return sandbox.token(scope=f"{PUBLISH_API}/.default", **app)


def test_a_publish_without_credentials_is_refused_and_logged_without_its_body(
    strict_ingress: RunningIngress, kafka_broker: Broker
) -> None:
    order_id = str(uuid.uuid4())
    refused = strict_ingress.publish(D365_TOPIC, order_event(order_id), api_key="guess")
    bare = strict_ingress.publish(D365_TOPIC, order_event(order_id), api_key=None)

    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == 'Bearer realm="isthmus"'
    assert bare.json()["message"].startswith("credentials required")
    assert refused.status_code == 401
    assert refused.json()["message"] == "the API key is not valid"
    assert records_for(kafka_broker, D365_TOPIC, order_id, expected=None, timeout_s=3) == []
    log = strict_ingress.process.log_tail(400)
    assert f"refused POST http://127.0.0.1:{strict_ingress.url.rsplit(':', 1)[1]}" in log
    assert order_id not in log


def test_a_token_with_the_topic_roles_publishes(
    strict_ingress: RunningIngress, sandbox_d365: SandboxD365, kafka_broker: Broker
) -> None:
    order_id = str(uuid.uuid4())
    token = _publish_token(sandbox_d365)
    answer = strict_ingress.publish(
        D365_TOPIC, order_event(order_id), api_key=None, **_bearer(token)
    )
    assert answer.status_code == 200, answer.text
    assert len(records_for(kafka_broker, D365_TOPIC, order_id, expected=1)) == 1


def test_a_role_opens_only_its_topic_family(
    strict_ingress: RunningIngress, sandbox_d365: SandboxD365
) -> None:
    app_id, secret = str(uuid.uuid4()), "dataverse-only-secret"
    sandbox_d365.admin.add_app(
        client_id=app_id, client_secret=secret, roles=("Events.Publish.Dataverse",)
    )
    token = _publish_token(sandbox_d365, client_id=app_id, client_secret=secret)
    allowed = strict_ingress.publish(
        D365_TOPIC, order_event(str(uuid.uuid4())), api_key=None, **_bearer(token)
    )
    denied = strict_ingress.publish(S4_TOPIC, {"any": "body"}, api_key=None, **_bearer(token))

    assert allowed.status_code == 200, allowed.text
    assert denied.status_code == 403
    assert denied.json()["message"] == (
        f"publisher {app_id!r} lacks the role 'Events.Publish.S4' that topic {S4_TOPIC!r} needs"
    )


def test_the_audit_topic_is_not_open_to_publishers(strict_ingress: RunningIngress) -> None:
    answer = strict_ingress.publish("audit.events", {"any": "body"})
    assert answer.status_code == 404
    assert answer.json()["message"] == "topic 'audit.events' is not open for publishing"


def test_tokens_that_do_not_verify_are_refused_with_the_reason(
    strict_ingress: RunningIngress, sandbox_d365: SandboxD365
) -> None:
    dataverse_token = sandbox_d365.token()  # audience: the Dataverse org, not the publish API
    genuine = _publish_token(sandbox_d365)
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": header["kid"]})
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "none"}, claims)
        )
        + "."
    )
    sandbox_d365.admin.set_token_lifetime(1)
    try:
        short_lived = _publish_token(sandbox_d365)
    finally:
        sandbox_d365.admin.set_token_lifetime(3599)
    time.sleep(2.5)

    reasons = {}
    for name, token in {
        "audience": dataverse_token,
        "forged": forged,
        "unsigned": unsigned,
        "expired": short_lived,
        "garbage": "not-a-jwt",
    }.items():
        answer = strict_ingress.publish(D365_TOPIC, {"any": "body"}, api_key=None, **_bearer(token))
        assert answer.status_code == 401, (name, answer.text)
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]
        reasons[name] = answer.json()["message"]
    assert reasons["audience"] == "the bearer token is for another audience"
    assert reasons["forged"].startswith("the bearer token is not valid: Signature")
    assert reasons["unsigned"].startswith("the bearer token is not valid")
    assert reasons["expired"] == "the bearer token has expired"
    assert reasons["garbage"] == "the bearer token is not a JWT"


def test_an_ingress_without_publisher_credentials_refuses_every_publish(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    with ingress_process(kafka_broker, tmp_path, ISTHMUS_INGRESS_PUBLISH__API_KEYS="{}") as running:
        answer = running.publish(D365_TOPIC, order_event(str(uuid.uuid4())))
    assert answer.status_code == 401
    assert answer.json()["message"] == "the publish API has no credentials configured"
