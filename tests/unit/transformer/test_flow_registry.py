"""Hot reload: a changed folder goes into service whole; a broken one is rejected loudly."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from isthmus.transformer.adapters.flow_files import FlowRegistry
from isthmus.transformer.metrics import TransformerMetrics
from tests.unit.transformer.conftest import REPO

FLOW = "d365-salesorder-to-s4.yaml"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(REPO / "flows" / FLOW, folder / FLOW)
    shutil.copytree(REPO / "flows" / "lookups", folder / "lookups")
    return folder


def _registry(folder: Path) -> tuple[FlowRegistry, InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    registry = FlowRegistry(
        directory=folder, interval_s=60, metrics=TransformerMetrics.create(meter)
    )
    return registry, reader


def _count(reader: InMemoryMetricReader, name: str) -> int:
    data = reader.get_metrics_data()
    total = 0
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    total += sum(int(getattr(p, "value", 0)) for p in metric.data.data_points)
    return total


def test_a_new_version_goes_into_service(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    registry, reader = _registry(folder)
    assert registry.check() is False  # nothing changed yet
    text = (folder / FLOW).read_text().replace("version: 1\n", "version: 2\n", 1)
    (folder / FLOW).write_text(text)
    assert registry.check() is True
    assert registry.current().versions() == {"d365-salesorder-to-s4": 2}
    assert _count(reader, "isthmus.transformer.flow_reloads") == 1


def test_a_broken_file_is_rejected_and_the_old_version_keeps_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _folder(tmp_path)
    registry, reader = _registry(folder)
    before = registry.current()
    text = (folder / FLOW).read_text().replace("version: 1\n", "version: 3\n", 1)
    (folder / FLOW).write_text(text.replace("SoldToParty:", "SoldToParty: 'if(\nx:", 1))
    with caplog.at_level(logging.ERROR):
        assert registry.check() is False
        assert registry.check() is False  # the same broken folder is reported once
    assert registry.current() is before
    rejected = [r for r in caplog.records if "FLOW RELOAD REJECTED" in r.getMessage()]
    assert len(rejected) == 1
    assert FLOW in rejected[0].getMessage()
    assert _count(reader, "isthmus.transformer.flow_reload_failures") == 1
