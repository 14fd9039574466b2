"""Request bodies are read strictly: what Python's json would take silently is a 400."""

from __future__ import annotations

import json

import pytest

from isthmus.ingress.core import strict_json
from isthmus.ingress.errors import MalformedError

pytestmark = pytest.mark.unit


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


def test_a_plain_document_is_read() -> None:
    body = b'{"MessageName": "Create", "InputParameters": [{"key": "Target", "value": 1.5}]}'
    assert strict_json.loads(body) == json.loads(body)


def test_a_duplicated_key_is_refused_not_decided_by_the_last_one() -> None:
    with pytest.raises(MalformedError, match='key "MessageName" appears more than once'):
        strict_json.loads(b'{"MessageName": "Update", "MessageName": "Delete"}')


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_numbers_are_refused(constant: bytes) -> None:
    with pytest.raises(MalformedError, match="is not a JSON number"):
        strict_json.loads(b'{"totalamount": ' + constant + b"}")


@pytest.mark.parametrize(
    "body", [b'{"name": "\\ud800"}', b'{"\\udfff": 1}', b'["ok", ["\\ud800x"]]']
)
def test_lone_surrogates_in_strings_and_keys_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedError, match="lone surrogate"):
        strict_json.loads(body)


def test_a_surrogate_pair_is_text_and_is_read() -> None:
    assert strict_json.loads(b'{"name": "\\ud83d\\ude00"}') == {"name": "\U0001f600"}


@pytest.mark.parametrize("depth", [strict_json.MAX_DEPTH + 1, 950, 100_000])
def test_deep_nesting_is_refused_at_any_depth(depth: int) -> None:
    with pytest.raises(MalformedError, match="nested deeper than"):
        strict_json.loads(_nested(depth))


def test_nesting_up_to_the_limit_is_read() -> None:
    assert strict_json.loads(_nested(strict_json.MAX_DEPTH)) is not None


@pytest.mark.parametrize("body", [b'{"a": 1', b"\xff\xfe", b""])
def test_what_is_not_json_says_so(body: bytes) -> None:
    with pytest.raises(MalformedError, match="body is not JSON"):
        strict_json.loads(body)
