"""The request/response value types shared by the Web API, ``$batch`` and actions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from isthmus.sandbox_d365.errors import DataverseError, QueryError

JSON_TYPE = "application/json; odata.metadata=minimal"


@dataclass
class ApiRequest:
    """One Web API request (also one part of a ``$batch``)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    base: str
    user_id: str

    def header(self, name: str) -> str | None:
        """A request header by lower-case name."""
        return self.headers.get(name)

    def json(self) -> Any:
        """The body as JSON.

        Raises:
            QueryError: the body is empty or not JSON.
        """
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise QueryError(f"Invalid JSON. {exc}") from exc

    def prefer(self) -> dict[str, str]:
        """The ``Prefer`` preferences, e.g. ``{"return": "representation"}``."""
        result: dict[str, str] = {}
        raw = self.headers.get("prefer", "")
        depth_quote = False
        current: list[str] = []
        parts: list[str] = []
        for char in raw:
            if char == '"':
                depth_quote = not depth_quote
            if char == "," and not depth_quote:
                parts.append("".join(current))
                current = []
            else:
                current.append(char)
        parts.append("".join(current))
        for part in parts:
            name, _, value = part.strip().partition("=")
            if name:
                result[name.strip().lower()] = value.strip()
        return result


@dataclass
class ApiResponse:
    """What the Web API answers."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of_json(
        cls, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        """A JSON response with the OData headers."""
        merged = {"OData-Version": "4.0", "Content-Type": JSON_TYPE, **(headers or {})}
        return cls(status, merged, json.dumps(payload).encode())

    @classmethod
    def empty(cls, status: int, headers: Mapping[str, str] | None = None) -> ApiResponse:
        """A response without body (204, 304)."""
        return cls(status, {"OData-Version": "4.0", **(headers or {})})

    @classmethod
    def of_error(cls, error: DataverseError) -> ApiResponse:
        """The Dataverse error JSON for ``error``."""
        return cls.of_json(error.status, error.body(), error.headers)
