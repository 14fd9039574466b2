"""$batch bodies (CRLF or LF) split into request parts and change sets, in both dialects."""

from __future__ import annotations

import pytest

from isthmus.sandbox_kit.batch import (
    DATAVERSE_V4,
    SAP_GATEWAY_V2,
    BatchDialect,
    ChangeSet,
    MalformedBatchError,
    Part,
    parse_batch,
)

pytestmark = pytest.mark.unit

GATEWAY_BODY = """--batch_1
Content-Type: application/http
Content-Transfer-Encoding: binary

GET A_SalesOrder('4711')?$format=json HTTP/1.1
Accept: application/json


--batch_1
Content-Type: multipart/mixed; boundary=changeset_1

--changeset_1
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST A_SalesOrder HTTP/1.1
Content-Type: application/json

{"SalesOrderType":"OR"}
--changeset_1
Content-Type: application/http
Content-Transfer-Encoding: binary

PATCH A_SalesOrder('4712') HTTP/1.1
Content-Type: application/json
If-Match: *

{"PurchaseOrderByCustomer":"X"}
--changeset_1--
--batch_1--
"""

DATAVERSE_BODY = (
    b"--batch_AAA\r\n"
    b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    b"GET /api/data/v9.2/accounts?$select=name HTTP/1.1\r\n\r\n"
    b"--batch_AAA\r\n"
    b"Content-Type: multipart/mixed; boundary=changeset_BBB\r\n\r\n"
    b"--changeset_BBB\r\n"
    b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
    b"POST /api/data/v9.2/salesorders HTTP/1.1\r\n"
    b"Content-Type: application/json; type=entry\r\n\r\n"
    b'{"name": "x"}\r\n'
    b"--changeset_BBB\r\n"
    b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n"
    b"PATCH $1 HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n"
    b'{"description": "y"}\r\n'
    b"--changeset_BBB--\r\n"
    b"--batch_AAA--\r\n"
)


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("dialect", [SAP_GATEWAY_V2, DATAVERSE_V4])
def test_gateway_parts_and_changesets(newline: str, dialect: BatchDialect) -> None:
    body = GATEWAY_BODY.replace("\n", newline).encode()
    items = parse_batch(
        body=body, content_type="multipart/mixed; boundary=batch_1", dialect=dialect
    )
    assert len(items) == 2
    get, changeset = items
    assert (
        isinstance(get, Part)
        and get.method == "GET"
        and get.url == "A_SalesOrder('4711')?$format=json"
    )
    assert get.body == b""
    assert get.path_and_query() == ("A_SalesOrder('4711')", {"$format": "json"})
    assert isinstance(changeset, ChangeSet)
    post, patch = changeset.parts
    assert (post.method, post.url, post.content_id, post.body) == (
        "POST",
        "A_SalesOrder",
        "1",
        b'{"SalesOrderType":"OR"}',
    )
    assert patch.headers["if-match"] == "*"
    assert patch.body == b'{"PurchaseOrderByCustomer":"X"}'


def test_dataverse_parts_and_change_sets() -> None:
    items = parse_batch(
        body=DATAVERSE_BODY,
        content_type='multipart/mixed; boundary="batch_AAA"',
        dialect=DATAVERSE_V4,
    )
    assert isinstance(items[0], Part)
    assert (items[0].method, items[0].url, items[0].body) == (
        "GET",
        "/api/data/v9.2/accounts?$select=name",
        b"",
    )
    change_set = items[1]
    assert isinstance(change_set, ChangeSet)
    assert [(p.method, p.url, p.content_id) for p in change_set.parts] == [
        ("POST", "/api/data/v9.2/salesorders", "1"),
        ("PATCH", "$1", "2"),
    ]
    assert change_set.parts[0].body == b'{"name": "x"}'


@pytest.mark.parametrize("dialect", [SAP_GATEWAY_V2, DATAVERSE_V4])
def test_missing_boundary(dialect: BatchDialect) -> None:
    with pytest.raises(MalformedBatchError) as refused:
        parse_batch(body=b"--x\n", content_type="multipart/mixed", dialect=dialect)
    assert refused.value.problem.kind == "no_boundary"
    with pytest.raises(MalformedBatchError):
        parse_batch(body=DATAVERSE_BODY, content_type="application/json", dialect=dialect)


def test_change_set_without_boundary_is_refused() -> None:
    body = b"--b\r\nContent-Type: multipart/mixed\r\n\r\n--c\r\n--b--\r\n"
    with pytest.raises(MalformedBatchError) as refused:
        parse_batch(body=body, content_type="multipart/mixed; boundary=b", dialect=DATAVERSE_V4)
    assert refused.value.problem.kind == "change_set_without_boundary"


def test_part_without_request_line_is_refused() -> None:
    body = b"--b\r\nContent-Type: application/http\r\n\r\nGET\r\n--b--\r\n"
    with pytest.raises(MalformedBatchError) as refused:
        parse_batch(body=body, content_type="multipart/mixed; boundary=b", dialect=SAP_GATEWAY_V2)
    assert refused.value.problem.kind == "bad_request_line"


def _gets(count: int) -> bytes:
    part = b"--b\r\nContent-Type: application/http\r\n\r\nGET accounts HTTP/1.1\r\n\r\n"
    return part * count + b"--b--\r\n"


def test_only_dataverse_limits_the_number_of_requests() -> None:
    body = _gets(1001)
    with pytest.raises(MalformedBatchError) as refused:
        parse_batch(body=body, content_type="multipart/mixed; boundary=b", dialect=DATAVERSE_V4)
    assert (refused.value.problem.kind, refused.value.problem.detail) == (
        "too_many_requests",
        "1001",
    )
    assert (
        len(parse_batch(body=_gets(1000), content_type="boundary=b", dialect=DATAVERSE_V4)) == 1000
    )
    assert len(parse_batch(body=body, content_type="boundary=b", dialect=SAP_GATEWAY_V2)) == 1001


def test_body_white_space_is_dropped_only_in_dataverse() -> None:
    body = (
        b"--b\r\nContent-Type: application/http\r\n\r\n"
        b"POST accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n  {}  \r\n\r\n--b--\r\n"
    )
    (dataverse,) = parse_batch(body=body, content_type="boundary=b", dialect=DATAVERSE_V4)
    (gateway,) = parse_batch(body=body, content_type="boundary=b", dialect=SAP_GATEWAY_V2)
    assert isinstance(dataverse, Part) and dataverse.body == b"{}"
    assert isinstance(gateway, Part) and gateway.body == b"  {}  "


def test_epilogue_after_the_close_delimiter_is_ignored() -> None:
    body = _gets(1) + b"trailing text\r\n--b\r\nnot a part\r\n"
    assert len(parse_batch(body=body, content_type="boundary=b", dialect=SAP_GATEWAY_V2)) == 1
