"""$batch bodies (CRLF or LF) split into retrieve parts and change sets."""

from __future__ import annotations

import pytest

from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.batch import ChangeSet, Part, parse_batch

BODY = """--batch_1
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


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_parts_and_changesets(newline: str) -> None:
    body = BODY.replace("\n", newline).encode()
    items = parse_batch(body=body, content_type="multipart/mixed; boundary=batch_1")
    assert len(items) == 2
    get, changeset = items
    assert (
        isinstance(get, Part)
        and get.method == "GET"
        and get.url == "A_SalesOrder('4711')?$format=json"
    )
    assert get.body == b""
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


def test_missing_boundary() -> None:
    with pytest.raises(MalformedRequestError):
        parse_batch(body=b"--x\n", content_type="multipart/mixed")
