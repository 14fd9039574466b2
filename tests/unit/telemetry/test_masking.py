"""Secrets and e-mail addresses are masked in every JSON log line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from isthmus.telemetry.logs import configure_logging
from isthmus.telemetry.masking import MASK, mask_text, mask_value

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("POST /webhooks/dataverse?code=Zm9vYmFy&x=1 401", "Zm9vYmFy"),
        ("HTTP Request: POST https://h/token?client_secret=s3cr3t HTTP/1.1 200", "s3cr3t"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("{'authorization': 'Basic dXNlcjpwYXNz', 'accept': '*/*'}", "dXNlcjpwYXNz"),
        ('{"password": "Isthmus-Sandbox-1", "user": "ISTHMUS_COMM"}', "Isthmus-Sandbox-1"),
        ("client_secret=Isthmus-OAuth-Secret-1&grant_type=client_credentials", "Isthmus-OAuth"),
        ("refresh_token: r-123", "r-123"),
        (f"token {JWT} refused", JWT),
        ("x-csrf-token: q1w2e3r4", "q1w2e3r4"),
        ("Cookie: SAP_SESSIONID=abc123", "abc123"),
        ("contact jane.doe@contoso.com changed", "jane.doe"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    masked = mask_text(text)
    assert secret not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "Dataverse answered 400: code 0x80040217, entity not found",
        '{"code": "VALIDATION", "message": "PurchaseOrderByCustomer too long"}',
        "X-CSRF-Token: Fetch",
        "sales order 4711 created for sold-to 10100001",
    ],
)
def test_what_is_not_a_secret_is_kept(text: str) -> None:
    assert mask_text(text) == text


def test_email_keeps_its_domain() -> None:
    assert mask_text("mail to jane.doe@contoso.com") == "mail to ***@contoso.com"


def test_extras_are_masked_by_name_and_content() -> None:
    masked = mask_value({"password": "p", "url": "https://h/x?code=k", "n": 3}, name="request")
    assert masked == {"password": MASK, "url": f"https://h/x?code={MASK}", "n": 3}
    assert mask_value("anything", name="Authorization") == MASK
    assert mask_value(["a@b.example"]) == ["***@b.example"]


def test_json_lines_carry_no_secret() -> None:
    stream = io.StringIO()
    configure_logging(service="test", stream=stream)
    log = logging.getLogger("isthmus.test.masking")
    try:
        extra = {"client_secret": "c", "who": "a@b.io"}
        log.warning("refused %s", "/webhooks/dataverse?code=k3y", extra=extra)
        try:
            raise RuntimeError("login failed for password=hunter2")
        except RuntimeError:
            log.exception("token %s", JWT)
        logging.getLogger("httpx").info("HTTP Request: GET https://h/?access_token=t0k HTTP/1.1")
    finally:
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    for secret in ("k3y", "hunter2", JWT, "t0k", "a@b.io"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["client_secret"] == MASK
    assert lines[0]["message"] == f"refused /webhooks/dataverse?code={MASK}"
    assert "RuntimeError" in lines[1]["exception"]
    assert len(lines) == 3
    assert logging.getLogger("httpcore").getEffectiveLevel() >= logging.WARNING
