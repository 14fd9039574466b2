"""The project's standard local environment: where each component's files go."""

from __future__ import annotations

from pathlib import Path

from isthmus.devenv.broker import LocalKafka
from isthmus.devenv.paths import local_dir

DEFAULT_KAFKA_PORT = 9092


def local_kafka(
    *, root: Path, name: str = "kafka", port: int | None = None, proxied_listener: bool = False
) -> LocalKafka:
    """The broker whose data lives in ``<root>/.local/<name>``, with the shared jar cache
    (``proxied_listener``: see ``LocalKafka``)."""
    local = local_dir(root)
    kafka_dir = root / "deploy" / "local" / "kafka"
    return LocalKafka(
        data_dir=local / name,
        pom=kafka_dir / "pom.xml",
        jars_dir=local / "jars" / "kafka",
        log4j_config=kafka_dir / "log4j2.properties",
        port=port,
        proxied_listener=proxied_listener,
    )
