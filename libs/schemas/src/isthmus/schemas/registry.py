"""The one place that talks to a schema registry: ids, writer schemas, subjects, compatibility.

Every registry failure is translated into the package's error tree at this boundary: connection
problems and server errors are retryable, a missing schema id is invalid input, a refusal is fatal.

A registry that does not answer opens a circuit: for ``cooldown_s`` every call fails at once
with ``RegistryUnavailableError`` instead of waiting out its own timeout and retries, so a
consume loop moves the records that need it to their retry tier in milliseconds rather than
stalling a batch for the timeout of each; the first call after the cool-down tries again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from isthmus.schemas.catalogue import CatalogueSchema
from isthmus.schemas.errors import (
    RegistryRejectedError,
    RegistryUnavailableError,
    SchemaError,
    UnknownSchemaIdError,
)

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_NOT_FOUND = 404
_SERVER_ERROR = 500
COMPATIBILITY = "BACKWARD"


class RegistryClient:
    """A caching, error-translating front of confluent-kafka's ``SchemaRegistryClient``."""

    def __init__(
        self,
        *,
        client: SchemaRegistryClient,
        cooldown_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ids: dict[tuple[str, int], int] = {}
        self._schemas: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._open_until = 0.0
        self._last_failure = ""

    def schema_id(self, *, subject: str, schema: CatalogueSchema, register: bool) -> int:
        """The registry id of ``schema`` under ``subject``, registering it when ``register``.

        Raises:
            RegistryUnavailableError: the registry did not answer.
            RegistryRejectedError: the registry refused the schema, or it is not registered and
                ``register`` is false.
        """
        key = (subject, schema.fingerprint)
        cached = self._ids.get(key)
        if cached is not None:
            return cached
        avro = Schema(schema.text, "AVRO")
        if register:
            schema_id = self._call(lambda: self._client.register_schema(subject, avro))
        else:
            found = self._call(lambda: self._client.lookup_schema(subject, avro))
            if found.schema_id is None:
                raise RegistryRejectedError(f"{subject}: the registry returned no schema id")
            schema_id = found.schema_id
        with self._lock:
            self._ids[key] = schema_id
        return schema_id

    def schema_text(self, *, schema_id: int) -> str:
        """The writer schema stored under ``schema_id`` as JSON text.

        Raises:
            UnknownSchemaIdError: the registry has no schema with that id.
            RegistryUnavailableError: the registry did not answer.
        """
        try:
            schema = self._call(lambda: self._client.get_schema(schema_id))
        except RegistryRejectedError as exc:
            if getattr(exc.__cause__, "http_status_code", None) == _NOT_FOUND:
                raise UnknownSchemaIdError(
                    f"schema id {schema_id} is unknown to the registry"
                ) from exc
            raise
        if schema.schema_type not in (None, "AVRO"):
            raise UnknownSchemaIdError(f"schema id {schema_id} is {schema.schema_type}, not Avro")
        if schema.references:
            raise UnknownSchemaIdError(f"schema id {schema_id} uses references; not supported")
        return str(schema.schema_str)

    def set_backward(self, *, subject: str) -> None:
        """Set the subject's compatibility level to BACKWARD.

        Raises:
            RegistryUnavailableError: the registry did not answer.
            RegistryRejectedError: the registry refused.
        """
        self._call(
            lambda: self._client.set_compatibility(subject_name=subject, level=COMPATIBILITY)
        )

    def close(self) -> None:
        """Close the HTTP connections of the underlying client."""
        self._client.close()

    def subjects(self) -> list[str]:
        """Every subject the registry holds.

        Raises:
            RegistryUnavailableError: the registry did not answer.
        """
        return list(self._call(self._client.get_subjects))

    def _call(self, request: Callable[[], _T]) -> _T:
        now = self._clock()
        if now < self._open_until:
            raise RegistryUnavailableError(
                f"schema registry not called for {self._open_until - now:.1f} s more after it "
                f"failed: {self._last_failure}"
            )
        try:
            return request()
        except RegistryUnavailableError as exc:
            self._open(str(exc))
            raise
        except SchemaError:
            raise
        except Exception as exc:
            error = _translated(exc)
            if isinstance(error, RegistryUnavailableError):
                self._open(str(error))
            raise error from exc

    def _open(self, failure: str) -> None:
        with self._lock:
            if self._clock() >= self._open_until:
                logger.warning(
                    "schema registry unavailable; calls fail at once for %.1f s",
                    self._cooldown_s,
                    extra={"error": failure},
                )
            self._open_until = self._clock() + self._cooldown_s
            self._last_failure = failure


def _translated(exc: Exception) -> SchemaError:
    """The package's error for one failed registry request."""
    if isinstance(exc, SchemaRegistryError):
        status = exc.http_status_code
        if status >= _SERVER_ERROR or status < 0:
            return RegistryUnavailableError(f"schema registry error: {exc}")
        return RegistryRejectedError(f"schema registry refused: {exc}")
    if isinstance(exc, OSError | ValueError | json.JSONDecodeError):
        return RegistryUnavailableError(f"schema registry unreachable: {exc}")
    # httpx transport errors and the like, whatever the version
    return RegistryUnavailableError(f"schema registry unreachable: {type(exc).__name__}: {exc}")
