"""Avro serializers and deserializers in confluent-kafka's ``__call__(obj, ctx)`` protocol.

The serializer writes one wire format (Confluent framing with a registry, single-object encoding
without); the deserializer reads both, whatever is configured, and resolves the writer schema to
the reader schema the consumer names. Parsed schemas and writer/reader pairs are cached, so the
hot path is one dict lookup plus fastavro's ``schemaless_writer``/``schemaless_reader``.
"""

from __future__ import annotations

import json
import threading
from io import BytesIO
from typing import Any

from confluent_kafka.serialization import (
    Deserializer,
    MessageField,
    SerializationContext,
    Serializer,
)
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import to_parsing_canonical_form

from isthmus.schemas.catalogue import CatalogueSchema, SchemaCatalogue
from isthmus.schemas.errors import (
    IncompatibleSchemaError,
    RecordMismatchError,
    SchemaError,
    UndecodableError,
    UnknownSchemaIdError,
)
from isthmus.schemas.fingerprint import schema_fingerprint
from isthmus.schemas.mismatch import mismatched_field
from isthmus.schemas.registry import RegistryClient
from isthmus.schemas.resolution import incompatibilities
from isthmus.schemas.wire import WireFormat, confluent_header, read_header, single_object_header

Record = dict[str, Any]


def subject_name(ctx: SerializationContext | None, *, record_name: str) -> str:
    """TopicNameStrategy ``<topic>-value`` (or ``-key``); the record name without a topic."""
    if ctx is None or not ctx.topic:
        return record_name
    suffix = "key" if ctx.field == MessageField.KEY else "value"
    return f"{ctx.topic}-{suffix}"


class AvroSerializer(Serializer):
    """Writes records of one catalogue schema; ``None`` stays ``None`` (a tombstone).

    With ``registry`` set the bytes are Confluent-framed with the id registered (or looked up)
    under the context's subject; otherwise they carry the single-object header.
    """

    def __init__(
        self,
        *,
        schema: CatalogueSchema,
        registry: RegistryClient | None = None,
        auto_register: bool = True,
    ) -> None:
        self.schema = schema
        self._registry = registry
        self._auto_register = auto_register
        self._single_object = single_object_header(schema.fingerprint)
        self._headers: dict[str, bytes] = {}

    @property
    def wire_format(self) -> WireFormat:
        """The format this serializer writes."""
        return WireFormat.SINGLE_OBJECT if self._registry is None else WireFormat.CONFLUENT

    def __call__(self, obj: Record | None, ctx: SerializationContext | None = None) -> bytes | None:
        """Encode ``obj``.

        Raises:
            RecordMismatchError: ``obj`` does not match the schema; the message names the field.
            RegistryUnavailableError: the registry did not answer (Confluent framing only).
            RegistryRejectedError: the registry refused the schema (Confluent framing only).
        """
        if obj is None:
            return None
        topic = ctx.topic if ctx is not None else None
        out = BytesIO()
        out.write(self._header(ctx))
        try:
            schemaless_writer(out, self.schema.parsed, obj)
        except Exception as exc:  # fastavro raises many types for a bad value; find the field
            raise self._mismatch(obj, exc, topic) from exc
        return out.getvalue()

    def _header(self, ctx: SerializationContext | None) -> bytes:
        if self._registry is None:
            return self._single_object
        subject = subject_name(ctx, record_name=self.schema.name)
        header = self._headers.get(subject)
        if header is None:
            schema_id = self._registry.schema_id(
                subject=subject, schema=self.schema, register=self._auto_register
            )
            header = self._headers[subject] = confluent_header(schema_id)
        return header

    def _mismatch(self, obj: Any, exc: Exception, topic: str | None) -> RecordMismatchError:
        field = mismatched_field(obj, self.schema.parsed)
        where = f"field {field}" if field else "a value"
        return RecordMismatchError(
            f"record does not match {self.schema.name}: {where}: {type(exc).__name__}: {exc}",
            field=field,
            topic=topic,
        )


class AvroDeserializer(Deserializer):
    """Reads Confluent-framed and single-object-encoded records into dicts.

    ``reader`` is the schema the consumer expects (the topic's value schema); records written
    with an older or newer compatible schema are resolved to it. Without ``reader`` records come
    back as their writer wrote them. Decimals are ``decimal.Decimal``, timestamps aware datetimes.
    """

    def __init__(
        self,
        *,
        catalogue: SchemaCatalogue,
        reader: CatalogueSchema | None = None,
        registry: RegistryClient | None = None,
    ) -> None:
        self.reader = reader
        self._catalogue = catalogue
        self._registry = registry
        self._pairs: dict[tuple[WireFormat, int], tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def __call__(
        self, data: bytes | None, ctx: SerializationContext | None = None
    ) -> Record | None:
        """Decode ``data``; ``None`` (a tombstone) stays ``None``.

        Raises:
            UndecodableError: empty, truncated or garbage bytes.
            UnknownMagicByteError: neither wire format.
            UnknownSchemaIdError: the registry has no such id, or no registry is configured.
            UnknownFingerprintError: the catalogue has no such fingerprint.
            IncompatibleSchemaError: the writer schema cannot be read as the reader schema.
            RegistryUnavailableError: the registry did not answer.
        """
        if data is None:
            return None
        topic = ctx.topic if ctx is not None else None
        header = read_header(data, topic=topic)
        pair = self._pairs.get((header.wire_format, header.schema_ref))
        if pair is None:
            pair = self._resolve(header.wire_format, header.schema_ref, topic)
        stream = BytesIO(data)
        stream.seek(header.body_offset)
        try:
            record = schemaless_reader(stream, pair[0], pair[1])
        except Exception as exc:  # truncated or garbage bytes raise many types inside fastavro
            raise UndecodableError(
                f"cannot decode the Avro body: {type(exc).__name__}: {exc}", topic=topic
            ) from exc
        if stream.tell() != len(data):
            raise UndecodableError(
                f"{len(data) - stream.tell()} bytes left after the record: wrong writer schema",
                topic=topic,
            )
        if not isinstance(record, dict):
            raise UndecodableError("the payload is not an Avro record", topic=topic)
        return record

    def _resolve(self, wire_format: WireFormat, ref: int, topic: str | None) -> tuple[Any, Any]:
        """Find the writer schema, check it resolves to the reader, and cache the pair."""
        try:
            if wire_format is WireFormat.SINGLE_OBJECT:
                writer = self._catalogue.by_fingerprint(ref)
                writer_parsed, writer_canonical = writer.parsed, writer.canonical
            else:
                writer_parsed, writer_canonical = self._registry_writer(ref)
        except SchemaError as exc:
            if topic is None or exc.topic is not None:
                raise
            raise type(exc)(str(exc), topic=topic) from exc
        reader_parsed = None
        if self.reader is not None and self.reader.canonical != writer_canonical:
            problems = incompatibilities(reader=self.reader.parsed, writer=writer_parsed)
            if problems:
                raise IncompatibleSchemaError(
                    f"writer schema {wire_format.value} {ref} cannot be read as "
                    f"{self.reader.name}: {'; '.join(str(p) for p in problems)}",
                    topic=topic,
                )
            reader_parsed = self.reader.parsed
        with self._lock:
            self._pairs[(wire_format, ref)] = (writer_parsed, reader_parsed)
        return writer_parsed, reader_parsed

    def _registry_writer(self, schema_id: int) -> tuple[Any, str]:
        if self._registry is None:
            raise UnknownSchemaIdError(
                f"record is Confluent-framed (schema id {schema_id}) but no registry is configured"
            )
        text = self._registry.schema_text(schema_id=schema_id)
        try:
            parsed = parse_schema(json.loads(text), named_schemas={})
        except Exception as exc:  # a registry may hold schemas fastavro cannot parse
            raise UnknownSchemaIdError(f"schema id {schema_id} is not valid Avro: {exc}") from exc
        canonical = to_parsing_canonical_form(parsed)
        known = self._catalogue_match(canonical)
        return (known.parsed if known else parsed), canonical

    def _catalogue_match(self, canonical: str) -> CatalogueSchema | None:
        try:
            return self._catalogue.by_fingerprint(schema_fingerprint(canonical))
        except SchemaError:
            return None
