"""Isthmus telemetry: JSON logs, OpenTelemetry tracing and metrics, set up once per process."""
