"""Source records decoded with only what the flows in service read, mapped with those flows."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka.routing import Routes
from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.transformer.adapters.serde import InputDecoder
from isthmus.transformer.core.dispatch import FlowSet
from isthmus.transformer.core.events import SourceDecoder
from isthmus.transformer.core.handler import TransformHandler
from isthmus.transformer.samples import avro_typed
from tests.unit.transformer.conftest import REPO, XREF, record, sample

TOPIC = "d365.salesorder.events"
SCHEMA = "io.isthmus.d365.SalesOrderEvent"


def encoded(serdes: SerdeFactory) -> bytes:
    schema = json.loads(serdes.catalogue.get(SCHEMA).text)
    ctx = SerializationContext(TOPIC, MessageField.VALUE)
    value = serdes.serializer(value_schema=SCHEMA)(
        avro_typed(sample("d365-salesorder-created"), schema), ctx
    )
    assert value is not None
    return value


def decoder(serdes: SerdeFactory, flows: list[FlowSet]) -> SourceDecoder:
    schemas = {TOPIC: SCHEMA}
    return SourceDecoder(
        decoder=InputDecoder(factory=serdes, schema_of=schemas.get), flows=lambda: flows[-1]
    )


def test_only_the_fields_the_flows_read_are_decoded(flow_set: FlowSet) -> None:
    serdes = SerdeFactory(settings=SchemaSettings(schemas_dir=REPO / "schemas"))
    event = decoder(serdes, [flow_set])(
        encoded(serdes), SerializationContext(TOPIC, MessageField.VALUE)
    )
    assert event.flows is flow_set
    assert event.value is not None
    assert "ordernumber" in event.value["data"]
    assert "discountamount" not in event.value["data"]  # no flow reads it
    assert set(event.value["data"]["order_details"][0]) <= {
        "productnumber", "productdescription", "quantity", "uomname", "requestdeliveryby"
    }  # fmt: skip


def test_a_flow_reading_everything_gets_every_field(flow_set: FlowSet) -> None:
    serdes = SerdeFactory(settings=SchemaSettings(schemas_dir=REPO / "schemas"))
    flows = {
        key: dataclasses.replace(flow, reads=None) if flow.trigger.topic == TOPIC else flow
        for key, flow in flow_set.flows.items()
    }
    everything = FlowSet(flows=flows)
    event = decoder(serdes, [everything])(
        encoded(serdes), SerializationContext(TOPIC, MessageField.VALUE)
    )
    assert event.value is not None
    assert "discountamount" in event.value["data"]


def test_a_record_is_mapped_with_the_flow_set_it_was_decoded_for(flow_set: FlowSet) -> None:
    serdes = SerdeFactory(settings=SchemaSettings(schemas_dir=REPO / "schemas"))
    source = decoder(serdes, [flow_set])(
        encoded(serdes), SerializationContext(TOPIC, MessageField.VALUE)
    )
    reloaded = FlowSet(flows={})  # a reload that came in after the record was decoded
    handler = TransformHandler(
        flows=lambda: reloaded,
        lookups=XREF,
        routes=Routes.from_delays(group="transformer", delays_ms=[10_000]),
    )
    given: Any = record(None)
    outputs = handler(dataclasses.replace(given, value=source))
    assert [output.topic for output in outputs] == ["s4.salesorder.commands", "audit.events"]
