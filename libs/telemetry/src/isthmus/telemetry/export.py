"""Span export to an OTLP/HTTP collector, switched on by the standard OpenTelemetry variables."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from opentelemetry.environment_variables import OTEL_TRACES_EXPORTER
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_SDK_DISABLED,
)
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor

logger = logging.getLogger(__name__)

#: The only OTLP protocol shipped (the SDK's default); gRPC would need grpcio in every image.
HTTP_PROTOBUF = "http/protobuf"


def otlp_requested(*, environ: Mapping[str, str]) -> bool:
    """Whether the standard variables in ``environ`` ask for spans to go to an OTLP collector.

    An endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) or an
    explicit ``OTEL_TRACES_EXPORTER=otlp`` switches export on; ``OTEL_TRACES_EXPORTER=none`` (or
    any list without ``otlp``) and ``OTEL_SDK_DISABLED=true`` switch it off.
    """
    if environ.get(OTEL_SDK_DISABLED, "").strip().lower() == "true":
        return False
    exporters = {
        name.strip().lower()
        for name in environ.get(OTEL_TRACES_EXPORTER, "").split(",")
        if name.strip()
    }
    unsupported = exporters - {"otlp", "none"}
    if unsupported:
        logger.warning(
            "unsupported trace exporters ignored", extra={"exporters": sorted(unsupported)}
        )
    if exporters:
        return "otlp" in exporters
    return bool(
        environ.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "").strip()
        or environ.get(OTEL_EXPORTER_OTLP_ENDPOINT, "").strip()
    )


def otlp_span_processors(*, environ: Mapping[str, str]) -> tuple[SpanProcessor, ...]:
    """A batching OTLP/HTTP span processor when ``environ`` asks for one, else nothing.

    The exporter itself reads the remaining standard variables (endpoint, headers, timeout,
    compression, certificates) and the batch processor the ``OTEL_BSP_*`` ones.

    Raises:
        ValueError: the traces protocol is set to anything but ``http/protobuf``.
    """
    if not otlp_requested(environ=environ):
        return ()
    protocol = (
        environ.get(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)
        or environ.get(OTEL_EXPORTER_OTLP_PROTOCOL)
        or HTTP_PROTOBUF
    ).strip()
    if protocol != HTTP_PROTOBUF:
        msg = f"OTLP protocol {protocol!r} is not supported; only {HTTP_PROTOBUF!r} is"
        raise ValueError(msg)
    exporter = OTLPSpanExporter()
    logger.info("spans exported over OTLP/HTTP", extra={"endpoint": _endpoint_of(exporter)})
    return (BatchSpanProcessor(exporter),)


def _endpoint_of(exporter: OTLPSpanExporter) -> str:
    endpoint = getattr(exporter, "_endpoint", "")  # the exporter resolves it from the variables
    return str(endpoint)
