"""Request, response and behaviour types shared by the OData engine, readers and writers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from isthmus.sandbox_s4.odata.entities import Context, Creator, Row

FunctionHandler = Callable[[Context, dict[str, str], str | None], tuple[str | None, Any]]


@dataclass(frozen=True)
class EventSpec:
    """Which business event an entity set raises: `SalesOrder` + key fields for `data`.

    ``operation`` fixes the operation for a part of an object (a product description created or
    changed is a change of its product), else it follows the request (Created/Changed/Deleted).
    """

    object_type: str
    data_fields: tuple[str, ...]
    operation: str | None = None


@dataclass
class ServiceBehaviour:
    """What one service does beyond generic CRUD: creators, hooks, functions, events."""

    component_id: str
    creators: dict[str, Creator] = field(default_factory=dict)
    after_update: dict[str, Callable[[Context, Row], None]] = field(default_factory=dict)
    before_delete: dict[str, Callable[[Context, Row], None]] = field(default_factory=dict)
    functions: dict[str, FunctionHandler] = field(default_factory=dict)
    events: dict[str, EventSpec] = field(default_factory=dict)


@dataclass
class ODataRequest:
    """One OData request, already authenticated (and CSRF-checked when modifying)."""

    method: str
    service: str
    segments: list[str]
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    service_root: str
    user: str
    in_batch: bool = False

    def header(self, name: str) -> str | None:
        """A request header (case-insensitive)."""
        return self.headers.get(name.lower())


@dataclass
class ODataResponse:
    """Status, headers and body of one OData response."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class RuntimeOptions:
    """Behaviour switches the admin API can change at run time."""

    page_size: int = 1000
    require_if_match: bool = True
