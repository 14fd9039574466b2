"""Request-body schemas for the OpenAPI document (the handlers read raw bytes themselves)."""

from __future__ import annotations

from typing import Any

_PAIRS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"key": {"type": "string"}, "value": {}},
        "required": ["key"],
    },
}

REMOTE_EXECUTION_CONTEXT: dict[str, Any] = {
    "title": "RemoteExecutionContext",
    "description": "Microsoft.Xrm.Sdk.RemoteExecutionContext as Dataverse posts it.",
    "type": "object",
    "properties": {
        "MessageName": {"type": "string", "minLength": 1, "example": "Create"},
        "PrimaryEntityName": {"type": "string", "minLength": 1, "example": "salesorder"},
        "PrimaryEntityId": {"type": "string", "format": "uuid"},
        "OperationId": {"type": "string", "format": "uuid"},
        "CorrelationId": {"type": "string", "format": "uuid"},
        "InitiatingUserId": {"type": "string", "format": "uuid"},
        "UserId": {"type": "string", "format": "uuid"},
        "OperationCreatedOn": {"type": "string", "example": "/Date(1506409448000)/"},
        "InputParameters": _PAIRS,
        "PostEntityImages": _PAIRS,
        "PreEntityImages": _PAIRS,
    },
    "required": ["MessageName", "PrimaryEntityName", "PrimaryEntityId"],
}

CLOUD_EVENT: dict[str, Any] = {
    "title": "CloudEvent",
    "description": "CloudEvents 1.0 structured mode (binary mode: ce-* headers, body = data).",
    "type": "object",
    "properties": {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "type": {"type": "string", "example": "sap.s4.beh.salesorder.v1.SalesOrder.Created.v1"},
        "time": {"type": "string", "format": "date-time"},
        "datacontenttype": {"type": "string"},
        "data": {"type": "object", "example": {"SalesOrder": "1"}},
    },
    "required": ["specversion", "id", "source", "type"],
}

PUBLISHED_EVENT: dict[str, Any] = {
    "title": "Event",
    "description": "A value of the topic's Avro schema in JSON: decimals as numbers or strings, "
    "dates YYYY-MM-DD, timestamps RFC 3339, enums by symbol.",
    "type": "object",
}

ERROR: dict[str, Any] = {
    "description": "The request was refused; nothing was produced.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                    "violations": {"type": "array", "items": {"type": "string"}},
                },
            }
        }
    },
}


def body(schema: dict[str, Any], *media: str) -> dict[str, Any]:
    """``openapi_extra`` with a required JSON request body."""
    types = media or ("application/json",)
    return {
        "requestBody": {
            "required": True,
            "content": {name: {"schema": schema} for name in types},
        }
    }


SECURITY_SCHEMES: dict[str, Any] = {
    "publisherToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "OAuth 2.0 access token of the configured issuer (Entra ID); its app "
        "roles (roles) or scopes (scp) open topic families (ISTHMUS_INGRESS_PUBLISH__*).",
    },
    "publisherApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key of ISTHMUS_INGRESS_PUBLISH__API_KEYS, with its roles.",
    },
    "dataverseWebhookKey": {
        "type": "apiKey",
        "in": "query",
        "name": "code",
        "description": "The WebhookKey of the service endpoint (or the configured header or "
        "query pairs: ISTHMUS_INGRESS_DATAVERSE__AUTH_TYPE).",
    },
    "eventMeshBasic": {"type": "http", "scheme": "basic"},
    "eventMeshToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token of POST /v1/oauth/token (client credentials).",
    },
}
"""``components.securitySchemes`` of the OpenAPI document."""


def security(*schemes: str) -> dict[str, Any]:
    """An operation's ``security``: any one of ``schemes`` is enough."""
    return {"security": [{scheme: []} for scheme in schemes]}
