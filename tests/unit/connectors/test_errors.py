"""Error mapping from the real captured Dataverse and SAP error bodies."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from isthmus.connectors.budget import LimitHint
from isthmus.connectors.d365 import errors as d365
from isthmus.connectors.errors import ConnectorError
from isthmus.connectors.s4 import errors as s4
from isthmus.kafka.errors import ErrorClass

pytestmark = pytest.mark.unit
SAMPLES = Path(__file__).parent / "samples"


def response(status: int, body: object, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


ROW_VERSION_MISMATCH = (
    "The version of the existing record doesn't match the RowVersion property provided."
)
DATAVERSE_KINDS: dict[type, str] = {
    d365.DataverseNotFoundError: "invalid",
    d365.DataverseDuplicateError: "invalid",
    d365.DataversePreconditionError: "invalid",
    d365.DataverseValidationError: "invalid",
    d365.DataversePrivilegeError: "fatal",
    d365.DataverseThrottledError: "retryable",
    d365.DataverseServerError: "retryable",
}


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (404, "0x80040217", "account With Id = x Does Not Exist", d365.DataverseNotFoundError),
        (
            412,
            "",
            "A record with matching key values already exists.",
            d365.DataverseDuplicateError,
        ),
        (412, "", ROW_VERSION_MISMATCH, d365.DataversePreconditionError),
        (400, "0x80040333", "duplicate", d365.DataverseDuplicateError),
        (400, "0x80044331", "A validation error occurred.", d365.DataverseValidationError),
        (403, "0x80072560", "not a member", d365.DataversePrivilegeError),
        (429, "0x80072322", "Number of requests exceeded", d365.DataverseThrottledError),
        (503, "", "unavailable", d365.DataverseServerError),
    ],
)
def test_dataverse_errors(status: int, code: str, message: str, expected: type) -> None:
    body = {"error": {"code": code, "message": message}}
    error = d365.map_error(response(status, body, **{"Retry-After": "4"}))
    assert type(error) is expected
    assert error.kind == DATAVERSE_KINDS[expected]
    assert isinstance(error, ConnectorError)


def test_dataverse_throttle_carries_retry_after() -> None:
    body = {"error": {"code": "0x80072326", "message": "concurrent"}}
    error = d365.map_error(response(429, body, **{"Retry-After": "4"}))
    assert error.retry_after == 4.0


def test_sap_error_with_details() -> None:
    body = {
        "error": {
            "code": "V1/382",
            "message": {"lang": "en", "value": "Material NOPE does not exist"},
            "innererror": {
                "errordetails": [
                    {
                        "code": "V1/382",
                        "message": "Material NOPE does not exist",
                        "severity": "error",
                        "target": "to_Item/Material",
                    },
                    {
                        "code": "SLS_LORD/009",
                        "message": "Document is incomplete",
                        "severity": "warning",
                        "target": "",
                    },
                ]
            },
        }
    }
    error = s4.map_error(response(400, body))
    assert isinstance(error, s4.S4ValidationError)
    assert (error.message_class, error.message_number) == ("V1", "382")
    assert [d.code for d in error.details] == ["V1/382", "SLS_LORD/009"]
    assert error.details[0].target == "to_Item/Material"


def test_sap_not_found_and_duplicate() -> None:
    not_found = {
        "error": {"code": "/IWBEP/CM_MGW_RT/020", "message": {"value": "Resource not found"}}
    }
    assert isinstance(s4.map_error(response(404, not_found)), s4.S4NotFoundError)
    duplicate = {"error": {"code": "R1/286", "message": {"value": "BP 1 already exists"}}}
    assert isinstance(s4.map_error(response(400, duplicate)), s4.S4DuplicateError)


def test_sap_plain_text_errors_and_statuses() -> None:
    error = s4.map_error(httpx.Response(503, text="Service Unavailable"))
    assert isinstance(error, s4.S4ServerError)
    assert error.kind == "retryable"
    assert isinstance(s4.map_error(httpx.Response(428, text="")), s4.S4PreconditionError)
    assert s4.CsrfTokenError("x").kind == "fatal"


def test_captured_sap_samples_parse() -> None:
    for name, status, expected in [
        ("s4-error-1.json", 403, s4.S4PrivilegeError),
        ("s4-error-4.json", 404, s4.S4NotFoundError),
    ]:
        body = json.loads((SAMPLES / name).read_text())
        error = s4.map_error(response(status, body))
        assert type(error) is expected
        assert error.code.startswith("/IWBEP/")


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "0x80072322",
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
            LimitHint(requests=6000, window_seconds=300.0),
        ),
        (
            "0x80072321",
            "Combined execution time of incoming requests exceeded limit of 1,200,000 "
            "milliseconds over time window of 300 seconds. Decrease ...",
            LimitHint(execution_seconds=1200.0, window_seconds=300.0),
        ),
        (
            "0x80072326",
            "Number of concurrent requests exceeded the limit of 52.",
            LimitHint(concurrency=52),
        ),
        ("0x80072322", "something else", None),
    ],
)
def test_throttle_messages_name_the_limit(code: str, message: str, expected: object) -> None:
    body = {"error": {"code": code, "message": message}}
    assert d365.limit_hint(response(429, body)) == expected


def test_kinds_are_the_kafka_runtime_error_classes() -> None:
    for error in (
        d365.DataverseThrottledError("t"),
        s4.S4ValidationError("v"),
        s4.CsrfTokenError("c"),
    ):
        assert ErrorClass(error.kind).value == error.kind
