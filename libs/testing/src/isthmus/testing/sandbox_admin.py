"""The ``/_sandbox`` admin API client both emulators answer, over httpx."""

from __future__ import annotations

import ssl
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx


class SandboxAdminClient:
    """The admin calls both sandboxes share; each sandbox's client adds its own."""

    def __init__(self, *, base_url: str, ca_file: Path) -> None:
        self.base_url = base_url
        verify = ssl.create_default_context(cafile=str(ca_file))
        self._client = httpx.Client(base_url=f"{base_url}/_sandbox", verify=verify, timeout=30)

    def request(
        self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None
    ) -> Any:
        """One admin call; returns the decoded JSON answer (None for an empty one)."""
        present = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._client.request(method, path, json=body, params=present)
        response.raise_for_status()
        return response.json() if response.content else None

    def listing(self, resource: str, /, **params: Any) -> list[dict[str, Any]]:
        """A list the admin API answers, filtered by the query parameters that are not None."""
        result: list[dict[str, Any]] = self.request("GET", resource, params=params)
        return result

    def clear_calls(self) -> None:
        """Forget the calls received so far."""
        self.request("DELETE", "/calls")

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.request("DELETE", "/faults")

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired."""
        self.request("POST", "/tokens/expire")

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
