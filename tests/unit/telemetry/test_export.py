"""The OTLP span exporter is switched on and off by the standard OpenTelemetry variables."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from isthmus.telemetry.export import otlp_requested, otlp_span_processors
from isthmus.telemetry.setup import service_resource

ENDPOINT = "http://127.0.0.1:4318"


def _processors(environ: dict[str, str]) -> tuple[SpanProcessor, ...]:
    processors = otlp_span_processors(environ=environ)
    for processor in processors:
        processor.shutdown()  # stop the batch thread; nothing was queued, nothing is sent
    return processors


def test_no_exporter_without_the_variables() -> None:
    assert _processors({}) == ()
    assert _processors({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}) == ()


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{ENDPOINT}/v1/traces"},
        {"OTEL_TRACES_EXPORTER": "otlp"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
    ],
)
def test_one_batching_exporter_with_the_variables(environ: dict[str, str]) -> None:
    (processor,) = _processors(environ)
    assert isinstance(processor, BatchSpanProcessor)


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ENDPOINT, "OTEL_TRACES_EXPORTER": " None "},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "true"},
    ],
)
def test_none_or_a_disabled_sdk_switches_export_off(environ: dict[str, str]) -> None:
    assert _processors(environ) == ()


def test_an_unsupported_exporter_is_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="isthmus.telemetry.export"):
        requested = otlp_requested(
            environ={"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_TRACES_EXPORTER": "console"}
        )
    assert not requested
    assert [r.exporters for r in caplog.records] == [["console"]]  # type: ignore[attr-defined]
    assert otlp_requested(environ={"OTEL_TRACES_EXPORTER": "console,otlp"})


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
        },
    ],
)
def test_a_protocol_other_than_http_protobuf_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="not supported"):
        otlp_span_processors(environ=environ)


def test_the_resource_is_named_after_the_service_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
    attributes = service_resource(service="transformer").attributes
    assert attributes["service.name"] == "transformer"
    assert attributes["deployment.environment.name"] == "test"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTEL_SERVICE_NAME", "transformer-eu"),
        ("OTEL_RESOURCE_ATTRIBUTES", "service.name=transformer-eu,team=integration"),
    ],
)
def test_the_standard_variables_name_the_service(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    monkeypatch.setenv(variable, value)
    assert service_resource(service="transformer").attributes["service.name"] == "transformer-eu"
