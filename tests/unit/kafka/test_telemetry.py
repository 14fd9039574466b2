"""JSON log lines carry service, trace and correlation ids and the processing coordinates."""

from __future__ import annotations

import io
import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from isthmus.telemetry.context import correlation, current_correlation_id
from isthmus.telemetry.logs import JsonFormatter
from isthmus.telemetry.metrics import MetricName, RuntimeMetrics

pytestmark = pytest.mark.unit


def _logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service="sap-sink"))
    logger = logging.getLogger(f"test.json.{id(stream)}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def test_a_log_line_is_one_json_object_with_service_trace_correlation_and_extras() -> None:
    stream = io.StringIO()
    logger = _logger(stream)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("process") as span, correlation("corr-1"):
        logger.warning("record dead-lettered", extra={"topic": "t", "partition": 2, "offset": 9})
    line = json.loads(stream.getvalue())
    assert line["service"] == "sap-sink"
    assert line["level"] == "warning"
    assert line["message"] == "record dead-lettered"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["correlation_id"] == "corr-1"
    assert (line["topic"], line["partition"], line["offset"]) == ("t", 2, 9)
    assert current_correlation_id() is None


def test_a_line_outside_any_span_has_no_trace_id_and_exceptions_are_kept() -> None:
    stream = io.StringIO()
    logger = _logger(stream)
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    line = json.loads(stream.getvalue())
    assert "trace_id" not in line
    assert "ValueError: boom" in line["exception"]


def test_metric_names_are_declared_once_and_the_instruments_use_them() -> None:
    names = [name.value for name in MetricName]
    assert len(names) == len(set(names))
    assert all(name.startswith("isthmus.") for name in names)
    metrics = RuntimeMetrics.create()
    metrics.consumed.add(1)  # no-op until a meter provider is set up, never raises
