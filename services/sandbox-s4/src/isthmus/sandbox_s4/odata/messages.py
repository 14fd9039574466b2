"""SAP Gateway message shapes: the OData error body and the `sap-message` header."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

from isthmus.sandbox_s4.errors import MessageDetail, ODataError

_SAP_NOTE = (
    "See SAP Note 1797736 for error analysis (https://service.sap.com/sap/support/notes/1797736)"
)
_TRANSACTION_HINT = (
    'For backend administrators: use ADT feed reader "SAP Gateway Error Log" or run '
    "transaction /IWFND/ERROR_LOG on SAP Gateway hub system and search for entries with the "
    "timestamp above for more details"
)
_BATCH_NOTE = (
    "See SAP Note 1869434 for details about working with $batch "
    "(https://service.sap.com/sap/support/notes/1869434)"
)


def _timestamp() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%d%H%M%S") + f".{now.microsecond:06d}0"


def _detail(detail: MessageDetail) -> dict[str, Any]:
    return {
        "code": detail.code,
        "message": detail.message,
        "propertyref": "",
        "severity": detail.severity,
        "target": detail.target,
        "transition": False,
    }


def error_body(
    error: ODataError, *, service: str, component: str, in_batch: bool = False
) -> dict[str, Any]:
    """The `{"error": {...}}` body SAP Gateway answers with."""
    details = error.details or (
        MessageDetail(
            code="/IWBEP/CX_MGW_BUSI_EXCEPTION"
            if error.status < 500  # noqa: PLR2004
            else "/IWBEP/CX_MGW_TECH_EXCEPTION",
            message=error.message,
        ),
    )
    resolution = {"SAP_Transaction": _TRANSACTION_HINT, "SAP_Note": _SAP_NOTE}
    if in_batch:
        resolution["Batch_SAP_Note"] = _BATCH_NOTE
    return {
        "error": {
            "code": error.code,
            "message": {"lang": "en", "value": error.message},
            "innererror": {
                "application": {
                    "component_id": component,
                    "service_namespace": "/SAP/",
                    "service_id": service,
                    "service_version": "0001",
                },
                "transactionid": uuid.uuid4().hex.upper(),
                "timestamp": _timestamp(),
                "Error_Resolution": resolution,
                "errordetails": [_detail(d) for d in details],
            },
        }
    }


def error_xml(error: ODataError) -> bytes:
    """The XML error body for clients that did not ask for JSON."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<error xmlns="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f"<code>{escape(error.code)}</code>"
        f'<message xml:lang="en">{escape(error.message)}</message></error>'
    ).encode()


def sap_message_header(*, messages: list[MessageDetail]) -> str | None:
    """The `sap-message` header: the first message with the rest as `details`."""
    if not messages:
        return None
    first, rest = messages[0], messages[1:]
    body = {
        "code": first.code,
        "message": first.message,
        "target": first.target,
        "severity": first.severity,
        "transition": False,
        "details": [
            {
                "code": m.code,
                "message": m.message,
                "target": m.target,
                "severity": m.severity,
                "transition": False,
            }
            for m in rest
        ],
    }
    return json.dumps(body, separators=(",", ":"))
