"""Running batch items: answers, change-set rollback, Content-ID references, per dialect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from isthmus.sandbox_kit.batch import (
    DATAVERSE_V4,
    SAP_GATEWAY_V2,
    BatchItem,
    BatchProblem,
    BatchRunner,
    ChangeSet,
    MalformedBatchError,
    Part,
    PartResponse,
)

pytestmark = pytest.mark.unit


class Target:
    """Creates rows at ``/rows(n)``; a URL containing ``fail`` answers 400."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.seen: list[Part] = []
        self.rolled_back = 0

    def execute(self, part: Part) -> PartResponse:
        self.seen.append(part)
        if "fail" in part.url:
            return PartResponse(400, {"Content-Type": "application/json"}, b'{"error":1}')
        if part.method == "GET":
            return PartResponse(200, {}, b"[]")
        self.rows.append(part.url)
        return PartResponse(204, {"OData-EntityId": f"https://x/rows({len(self.rows)})"})

    @contextmanager
    def change_set(self) -> Iterator[None]:
        before = list(self.rows)
        try:
            yield
        except Exception:
            self.rows = before
            self.rolled_back += 1
            raise

    def refuse(self, problem: BatchProblem) -> PartResponse:
        return PartResponse(400, {}, f"{problem.kind}:{problem.detail}".encode())


def _post(url: str, body: bytes = b"", content_id: str | None = None) -> Part:
    return Part("POST", url, {}, body, content_id)


def test_answer_layout_with_a_change_set() -> None:
    target = Target()
    items: list[BatchItem] = [
        Part("GET", "rows", {}, b""),
        ChangeSet([_post("rows", content_id="1")]),
    ]
    answer = BatchRunner(target=target, dialect=SAP_GATEWAY_V2).run(items)
    assert answer.status == 202
    assert answer.content_type == f"multipart/mixed; boundary={answer.boundary}"
    assert answer.boundary.startswith("batch_")
    text = answer.body.decode()
    assert text.startswith(f"--{answer.boundary}\r\nContent-Type: application/http\r\n")
    assert "HTTP/1.1 200 OK\r\n\r\n[]\r\n" in text
    assert "Content-Type: multipart/mixed; boundary=changeset_" in text
    assert "Content-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\n" in text
    assert text.endswith(f"--\r\n--{answer.boundary}--\r\n")


def test_failed_change_set_rolls_back_and_answers_one_part() -> None:
    target = Target()
    items: list[BatchItem] = [
        ChangeSet([_post("rows"), _post("fail")]),
        Part("GET", "rows", {}, b""),
    ]
    answer = BatchRunner(target=target, dialect=SAP_GATEWAY_V2).run(items)
    assert (target.rows, target.rolled_back) == ([], 1)
    text = answer.body.decode()
    assert "changeset_" not in text
    assert text.count("HTTP/1.1 400 Bad Request") == 1
    assert answer.status == 202
    assert text.count("HTTP/1.1 200 OK") == 1  # the gateway runs every item


def test_dataverse_stops_at_the_first_failure_with_its_status() -> None:
    items: list[BatchItem] = [ChangeSet([_post("fail")]), Part("GET", "rows", {}, b"")]
    stopped = BatchRunner(target=Target(), dialect=DATAVERSE_V4).run(items)
    assert stopped.status == 400
    assert stopped.boundary.startswith("batchresponse_")
    assert "HTTP/1.1 200 OK" not in stopped.body.decode()
    went_on = BatchRunner(target=Target(), dialect=DATAVERSE_V4, continue_on_error=True).run(items)
    assert went_on.status == 200
    assert "HTTP/1.1 200 OK" in went_on.body.decode()


def test_get_inside_a_change_set_is_refused() -> None:
    target = Target()
    answer = BatchRunner(target=target, dialect=DATAVERSE_V4).run(
        [ChangeSet([_post("rows"), Part("GET", "rows", {}, b"")])]
    )
    assert (target.rows, answer.status) == ([], 400)
    assert b"get_in_change_set:" in answer.body


def test_only_the_gateway_refuses_changes_outside_change_sets() -> None:
    with pytest.raises(MalformedBatchError) as refused:
        BatchRunner(target=Target(), dialect=SAP_GATEWAY_V2).run([_post("rows")])
    assert refused.value.problem.kind == "modifying_outside_change_set"
    answer = BatchRunner(target=Target(), dialect=DATAVERSE_V4).run([_post("rows")])
    assert answer.status == 200


def test_dataverse_resolves_content_id_references_in_urls_and_bodies() -> None:
    target = Target()
    body = json.dumps({"parent@odata.bind": "$1", "n": "$x"}).encode()
    items = [ChangeSet([_post("rows", content_id="1"), _post("$1/children", body, content_id="2")])]
    BatchRunner(target=target, dialect=DATAVERSE_V4).run(items)
    resolved = target.seen[1]
    assert resolved.url == "https://x/rows(1)/children"
    assert json.loads(resolved.body) == {"parent@odata.bind": "https://x/rows(1)", "n": "$x"}


def test_unknown_content_id_fails_the_part() -> None:
    target = Target()
    answer = BatchRunner(target=target, dialect=DATAVERSE_V4).run([_post("$9")])
    assert (answer.status, target.seen) == (400, [])
    assert b"unknown_content_id:9" in answer.body


def test_the_gateway_passes_references_through() -> None:
    target = Target()
    BatchRunner(target=target, dialect=SAP_GATEWAY_V2).run([ChangeSet([_post("$1")])])
    assert target.seen[0].url == "$1"
