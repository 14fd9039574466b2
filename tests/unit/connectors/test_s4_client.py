"""S/4 client logic over httpx.MockTransport: CSRF pool, paging, sap-message, SOAP, literals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.retry import RetryPolicy
from isthmus.connectors.s4 import S4Client, S4Settings
from isthmus.connectors.s4.errors import CsrfTokenError, S4SoapFaultError
from isthmus.connectors.s4.odata import key_predicate, v2_literal
from isthmus.connectors.s4.soap import (
    JournalEntry,
    JournalLine,
    journal_entry_envelope,
    parse_confirmation,
)

pytestmark = [pytest.mark.unit]
anyio = pytest.mark.anyio
ROOT = "https://s4.example/sap/opu/odata/sap/API_SALES_ORDER_SRV/"


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> S4Client:
    base: dict[str, Any] = {
        "base_url": "https://s4.example",
        "sap_client": "100",
        "user": "COMM",
        "password": "pw",
        "csrf_sessions": 2,
        "retry": RetryPolicy(initial_backoff_seconds=0.001, jitter_seconds=0.0),
    }
    base.update(kw)
    settings = S4Settings.model_validate(base)
    governor = ApiGovernor(credential="unit", limits=BudgetLimits(requests_per_window=None))
    return S4Client.connect(
        settings=settings, governor=governor, transport=httpx.MockTransport(handler)
    )


class FakeGateway:
    """Issues CSRF tokens bound to a session cookie, like SAP Gateway; can expire them all."""

    def __init__(self) -> None:
        self.fetches = 0
        self.valid: dict[str, str] = {}
        self.refused = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.params["sap-client"] == "100"
        if request.headers.get("x-csrf-token") == "Fetch":
            self.fetches += 1
            session, token = f"s{self.fetches}", f"t{self.fetches}"
            self.valid[session] = token
            return httpx.Response(
                200,
                headers=[
                    ("x-csrf-token", token),
                    ("set-cookie", f"SAP_SESSIONID_S4H_100={session}; path=/"),
                ],
            )
        cookie = request.headers.get("cookie", "")
        session = cookie.partition("SAP_SESSIONID_S4H_100=")[2].split(";")[0]
        if self.valid.get(session) != request.headers.get("x-csrf-token"):
            self.refused += 1
            return httpx.Response(
                403, text="CSRF token validation failed", headers={"x-csrf-token": "Required"}
            )
        body = {"d": {"SalesOrder": "1", "__metadata": {"etag": 'W/"e1"'}}}
        message = {
            "code": "V1/311",
            "message": "Standard Order 1 has been saved.",
            "severity": "success",
            "details": [
                {"code": "SLS_LORD/009", "message": "Document is incomplete", "severity": "warning"}
            ],
        }
        return httpx.Response(201, json=body, headers={"sap-message": json.dumps(message)})


@anyio
async def test_expired_tokens_are_refetched_once_and_never_reach_the_caller() -> None:
    gateway = FakeGateway()
    async with client_for(gateway) as client:
        await asyncio.gather(
            *(client.create("API_SALES_ORDER_SRV", "A_SalesOrder", {}) for _ in range(6))
        )
        assert gateway.fetches == 2  # one per pooled session
        gateway.valid.clear()  # every token expires
        created = await asyncio.gather(
            *(client.create("API_SALES_ORDER_SRV", "A_SalesOrder", {}) for _ in range(6))
        )
    assert gateway.fetches == 4
    assert gateway.refused == 2
    assert created[0].etag == 'W/"e1"'
    assert [m.severity for m in created[0].warnings] == ["warning"]
    assert created[0].messages[0].code == "V1/311"


@anyio
async def test_token_refused_twice_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-csrf-token") == "Fetch":
            return httpx.Response(200, headers={"x-csrf-token": "t"})
        return httpx.Response(
            403, text="CSRF token validation failed", headers={"x-csrf-token": "Required"}
        )

    async with client_for(handler) as client:
        with pytest.raises(CsrfTokenError):
            await client.create("API_SALES_ORDER_SRV", "A_SalesOrder", {})


@anyio
async def test_paging_keeps_the_next_links_query() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert params["sap-client"] == "100"
        if "$skiptoken" not in params:
            assert params["$filter"] == "SoldToParty eq '1'"
            return httpx.Response(
                200,
                json={
                    "d": {
                        "results": [{"SalesOrder": "1"}],
                        "__next": f"{ROOT}A_SalesOrder?$filter=x&$skiptoken=1",
                    }
                },
            )
        assert params["$filter"] == "x"
        return httpx.Response(200, json={"d": {"results": [{"SalesOrder": "2"}]}})

    async with client_for(handler) as client:
        rows = await client.query(
            "API_SALES_ORDER_SRV", "A_SalesOrder", filter="SoldToParty eq '1'"
        )
    assert [r["SalesOrder"] for r in rows] == ["1", "2"]


def test_v2_literals_and_keys() -> None:
    assert v2_literal("O'Brien") == "'O''Brien'"
    assert v2_literal(Decimal("10.5")) == "10.5M"
    assert v2_literal(True) == "true"
    assert v2_literal(date(2024, 1, 31)) == "datetime'2024-01-31T00:00:00'"
    assert (
        v2_literal(datetime(2024, 1, 31, 10, tzinfo=UTC)) == "datetimeoffset'2024-01-31T10:00:00Z'"
    )
    assert key_predicate("4711") == "('4711')"
    assert key_predicate({"SalesOrder": "1", "SalesOrderItem": "10"}) == (
        "(SalesOrder='1',SalesOrderItem='10')"
    )


def test_journal_entry_envelope_and_confirmation() -> None:
    entry = JournalEntry(
        company_code="1710",
        document_date=date(2026, 1, 1),
        posting_date=date(2026, 1, 1),
        reference="INV-1",
        lines=[
            JournalLine(amount=Decimal("5.00"), currency="USD", debit_credit="S", debtor="1"),
            JournalLine(
                amount=Decimal("5.00"), currency="USD", debit_credit="H", gl_account="41000000"
            ),
        ],
    )
    xml = journal_entry_envelope(entry)
    assert "<DebtorItem>" in xml
    assert 'currencyCode="USD"' in xml
    ok = (
        '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        '<n0:JournalEntryBulkCreateConfirmation xmlns:n0="http://sap.com/xi/SAPSCORE/SFIN">'
        "<JournalEntryCreateConfirmation><JournalEntryCreateConfirmation>"
        "<AccountingDocument>0100000001</AccountingDocument><CompanyCode>1710</CompanyCode>"
        "<FiscalYear>2026</FiscalYear></JournalEntryCreateConfirmation>"
        "<Log><MaximumSeverityCode>1</MaximumSeverityCode></Log>"
        "</JournalEntryCreateConfirmation></n0:JournalEntryBulkCreateConfirmation></e:Body></e:Envelope>"
    )
    confirmation = parse_confirmation(ok)
    assert (confirmation.accounting_document, confirmation.fiscal_year) == ("0100000001", "2026")
    rejected = ok.replace("0100000001", "0000000000").replace(
        "<MaximumSeverityCode>1</MaximumSeverityCode>",
        "<MaximumSeverityCode>3</MaximumSeverityCode><Item><TypeID>165(F5)</TypeID>"
        "<SeverityCode>3</SeverityCode><Note>Company code does not exist</Note></Item>",
    )
    with pytest.raises(S4SoapFaultError, match="Company code does not exist"):
        parse_confirmation(rejected)
