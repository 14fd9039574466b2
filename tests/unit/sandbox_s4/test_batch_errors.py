"""A refused $batch answers SAP Gateway's MalformedRequestError with its message and code."""

from __future__ import annotations

import pytest

from isthmus.sandbox_kit.batch import BatchProblem
from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.batch import batch_error

pytestmark = pytest.mark.unit


def test_missing_boundary() -> None:
    error = batch_error(BatchProblem("no_boundary"))
    assert isinstance(error, MalformedRequestError)
    assert (error.message, error.code) == (
        "Batch request has no multipart boundary",
        "/IWBEP/CM_MGW_RT/036",
    )


def test_modifying_part_outside_a_change_set() -> None:
    error = batch_error(BatchProblem("modifying_outside_change_set"))
    assert (error.message, error.code) == (
        "Modifying requests must be inside a change set",
        MalformedRequestError.default_code,
    )
