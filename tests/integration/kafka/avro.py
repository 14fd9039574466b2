"""A small Avro schema and its serde, for runtime tests that need real Avro bytes."""

from __future__ import annotations

import json

from isthmus.schemas import AvroDeserializer, AvroSerializer, SchemaCatalogue

ORDER_SCHEMA = {
    "type": "record",
    "name": "TestOrder",
    "namespace": "io.isthmus.test",
    "doc": "A test order.",
    "fields": [
        {"name": "order_id", "type": "string", "doc": "Business key."},
        {"name": "amount", "type": "double", "doc": "Order total."},
    ],
}


def order_serde() -> tuple[AvroSerializer, AvroDeserializer]:
    """Serializer and deserializer of ``io.isthmus.test.TestOrder`` (single-object encoding)."""
    catalogue = SchemaCatalogue.from_sources({"test_order.avsc": json.dumps(ORDER_SCHEMA)})
    schema = catalogue.get("io.isthmus.test.TestOrder")
    return AvroSerializer(schema=schema), AvroDeserializer(catalogue=catalogue, reader=schema)
