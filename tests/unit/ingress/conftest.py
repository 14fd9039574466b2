"""Shared paths of the ingress unit tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "tests" / "integration" / "ingress" / "samples"
