"""librdkafka configurations of the processing loop's consumer and producer."""

from __future__ import annotations

from isthmus.kafka.settings import ClientConfig, KafkaSettings, ProcessorSettings


def consumer_config(*, kafka: KafkaSettings, processor: ProcessorSettings) -> ClientConfig:
    """Consumer: cooperative-sticky, read_committed, offsets stored by the loop only.

    At-least-once lets librdkafka commit the offsets the loop stored (after delivery) every few
    seconds and on revoke/close; exactly-once commits them inside the producer's transaction.
    """
    config: ClientConfig = {
        **kafka.client_config(),
        "group.id": processor.group_id,
        "partition.assignment.strategy": "cooperative-sticky",
        "isolation.level": "read_committed",
        "auto.offset.reset": processor.auto_offset_reset,
        "enable.auto.offset.store": False,
        "enable.auto.commit": not processor.exactly_once,
        "auto.commit.interval.ms": 1_000,
        "enable.partition.eof": False,
    }
    if processor.static_membership:
        config["group.instance.id"] = processor.transactional_id
    config.update(processor.consumer_extra)
    return config


def producer_config(*, kafka: KafkaSettings, processor: ProcessorSettings) -> ClientConfig:
    """Producer: idempotent, acks=all; transactional with a stable id in exactly-once mode."""
    config: ClientConfig = {
        **kafka.client_config(),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "lz4",
    }
    if processor.exactly_once:
        config["transactional.id"] = processor.transactional_id
        config["transaction.timeout.ms"] = processor.transaction_timeout_ms
    config.update(processor.producer_extra)
    return config
