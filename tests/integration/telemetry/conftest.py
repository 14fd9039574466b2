"""A real OTLP/HTTP receiver per test, and the transformer's and sap-sink's fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.sinks.conftest import provision_sink, sap_sink
from tests.integration.telemetry.receiver import OtlpReceiver
from tests.integration.transformer.conftest import make_order, stage

__all__ = ["make_order", "otlp_receiver", "provision_sink", "sap_sink", "stage"]


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP receiver on a free loopback port."""
    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()
