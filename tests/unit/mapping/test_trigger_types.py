"""Event types: exact names match only themselves, wildcard patterns as fnmatch reads them."""

from __future__ import annotations

import fnmatch
import re

import pytest

from isthmus.mapping.flow import Trigger


def trigger(*types: str) -> Trigger:
    patterns = tuple(re.compile(fnmatch.translate(name)) for name in types)
    return Trigger("topic", types, patterns)


@pytest.mark.parametrize(
    ("types", "event_type", "accepted"),
    [
        (("Create",), "Create", True),
        (("Create",), "create", False),
        (("Create",), "Create ", False),
        (("Create", "Update"), "Update", True),
        (("sap.s4.beh.product.v1.Product.*",), "sap.s4.beh.product.v1.Product.Changed.v1", True),
        (("sap.s4.beh.product.v1.Product.*",), "sap.s4.beh.product.v1.Productx", False),
        (("Create", "Up?ate"), "Update", True),
        (("Create", "[CU]reate"), "Ureate", True),
        (("a.b",), "aXb", False),
    ],
)
def test_accepts_as_the_patterns_match(
    types: tuple[str, ...], event_type: str, accepted: bool
) -> None:
    rule = trigger(*types)
    assert rule.accepts(event_type) is accepted
    assert any(pattern.fullmatch(event_type) for pattern in rule.patterns) is accepted
