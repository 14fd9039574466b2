"""Schema settings: registry configuration, secrets and the factory's choice of wire format."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from isthmus.schemas import SchemaCatalogue, SchemaSettings, SerdeFactory, WireFormat

pytestmark = pytest.mark.unit


def test_registry_config_carries_basic_auth_and_never_shows_the_password() -> None:
    settings = SchemaSettings(
        registry_url="https://registry.example.invalid/apis/ccompat/v7",
        registry_username="isthmus",
        registry_password=SecretStr("s3cret"),
    )
    config = settings.registry_config()
    assert config["basic.auth.user.info"] == "isthmus:s3cret"
    assert config["url"] == "https://registry.example.invalid/apis/ccompat/v7"
    assert "s3cret" not in repr(settings)
    with pytest.raises(ValidationError):
        settings.registry_url = "http://elsewhere"  # type: ignore[misc]  # frozen on purpose
    with pytest.raises(ValueError, match="no schema registry"):
        SchemaSettings().registry_config()


def test_factory_writes_single_object_without_a_registry(
    repo_root: Path, catalogue: SchemaCatalogue
) -> None:
    factory = SerdeFactory(settings=SchemaSettings(), root=repo_root)
    assert factory.registry is None
    assert factory.catalogue.names == catalogue.names
    pair = factory.pair(value_schema="io.isthmus.common.Checkpoint")
    assert pair.serializer.wire_format is WireFormat.SINGLE_OBJECT
    assert pair.deserializer.reader is not None
    assert pair.deserializer.reader.name == "io.isthmus.common.Checkpoint"
