"""Batch refusals, key parsing and the throttling window (pure)."""

from __future__ import annotations

import pytest

from isthmus.sandbox_d365.business.catalogue import build_catalogue
from isthmus.sandbox_d365.errors import DataverseError, QueryError
from isthmus.sandbox_d365.http.throttling import Limits, Throttle
from isthmus.sandbox_d365.odata.batch import batch_error
from isthmus.sandbox_d365.odata.refs import KeyRef, parse_key, parse_reference, split_path
from isthmus.sandbox_kit.batch import BatchProblem, ProblemKind

pytestmark = pytest.mark.unit
CATALOGUE = build_catalogue()
GUID = "7eb682f1-ca75-e511-80d4-00155d2a68d1"


def test_refused_batches_answer_query_errors() -> None:
    kinds: tuple[ProblemKind, ...] = (
        "no_boundary",
        "change_set_without_boundary",
        "bad_request_line",
    )
    for kind in kinds:
        assert isinstance(batch_error(BatchProblem(kind)), QueryError)
    too_many = batch_error(BatchProblem("too_many_requests", "1001"))
    assert too_many.message == (
        "The number of requests in the batch (1001) exceeds the limit of 1000."
    )
    unknown = batch_error(BatchProblem("unknown_content_id", "7"))
    assert unknown.message == "Content-ID Reference: '$7' does not exist in the batch context."


def test_keys_by_id_alternate_key_and_undeclared_key() -> None:
    accounts = CATALOGUE.by_set["accounts"]
    assert parse_key(GUID.upper(), accounts) == KeyRef(row_id=GUID)
    assert parse_key(f"accountid={GUID}", accounts) == KeyRef(row_id=GUID)
    assert parse_key("accountnumber='O''Brien'", accounts) == KeyRef(
        values=(("accountnumber", "O'Brien"),)
    )
    with pytest.raises(QueryError):
        parse_key("telephone1='1'", accounts)


def test_paths_and_bind_references() -> None:
    path = split_path(f"salesorders({GUID})/order_details")
    assert (path.entity_set, path.key, path.rest) == ("salesorders", GUID, ("order_details",))
    assert split_path("accounts(name='a/b)')").key == "name='a/b)'"
    for value in (
        f"/accounts({GUID})",
        f"accounts({GUID})",
        f"https://org.crm.dynamics.com/api/data/v9.2/accounts({GUID})",
    ):
        table, ref = parse_reference(value, CATALOGUE)
        assert (table.logical, ref.row_id) == ("account", GUID)


def test_throttle_counts_requests_and_concurrency() -> None:
    throttle = Throttle(Limits(requests=2, execution_ms=1000, window_s=300, concurrency=1))
    throttle.enter("u")
    with pytest.raises(DataverseError) as concurrent:
        throttle.enter("u")
    assert concurrent.value.code == "0x80072326"
    throttle.leave("u", elapsed_ms=1)
    throttle.enter("u")
    throttle.leave("u", elapsed_ms=1)
    with pytest.raises(DataverseError) as counted:
        throttle.enter("u")
    assert (counted.value.status, counted.value.code) == (429, "0x80072322")
    assert int(counted.value.headers["Retry-After"]) >= 299
    throttle.enter("other-user")


def test_hammering_while_throttled_lengthens_retry_after() -> None:
    now = [0.0]
    throttle = Throttle(
        Limits(requests=2, execution_ms=10_000, window_s=10, concurrency=5), clock=lambda: now[0]
    )
    for _ in range(2):
        throttle.enter("u")
        throttle.leave("u", elapsed_ms=1)
    now[0] = 5.0
    with pytest.raises(DataverseError) as first:
        throttle.enter("u")
    assert first.value.headers["Retry-After"] == "5"
    now[0] = 6.0
    with pytest.raises(DataverseError) as second:
        throttle.enter("u")
    assert second.value.headers["Retry-After"] == "9"
    now[0] = 16.5
    throttle.enter("u")


def test_execution_time_limit_frees_up_as_the_window_slides() -> None:
    now = [0.0]
    throttle = Throttle(
        Limits(requests=100, execution_ms=100, window_s=10, concurrency=5), clock=lambda: now[0]
    )
    throttle.enter("u")
    throttle.leave("u", elapsed_ms=150)
    now[0] = 3.0
    with pytest.raises(DataverseError) as refused:
        throttle.enter("u")
    assert refused.value.code == "0x80072321"
    assert refused.value.headers["Retry-After"] == "7"
    now[0] = 10.5
    throttle.enter("u")
