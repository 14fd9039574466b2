"""SOAP service JournalEntryCreateRequestConfirmation_In (synchronous journal entry posting)."""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from isthmus.sandbox_kit.odata_date import parse_iso, to_ms
from isthmus.sandbox_s4.business.journal import (
    OUTPUT_TAX_ACCOUNT,
    PAYABLES_ACCOUNT,
    RECEIVABLES_ACCOUNT,
    Journal,
    JournalHeader,
    JournalLine,
    PostingError,
)
from isthmus.sandbox_s4.errors import SoapFaultError
from isthmus.sandbox_s4.odata.values import today_ms

NAMESPACE = "http://sap.com/xi/SAPSCORE/SFIN"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
PATH = "/sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
_LINE_KINDS = {
    "Item": "",
    "DebtorItem": RECEIVABLES_ACCOUNT,
    "CreditorItem": PAYABLES_ACCOUNT,
    "ProductTaxItem": OUTPUT_TAX_ACCOUNT,
}


def _text(element: ET.Element | None, path: str) -> str:
    found = None if element is None else element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _date_ms(text: str) -> int:
    return to_ms(parse_iso(text)) if text else today_ms()


def _line(kind: str, element: ET.Element) -> JournalLine:
    amount_element = element.find("AmountInTransactionCurrency")
    if amount_element is None:
        raise PostingError([("011(FH)", f"{kind}: AmountInTransactionCurrency is missing")])
    try:
        amount = Decimal((amount_element.text or "").strip())
    except InvalidOperation as exc:
        raise PostingError([("012(FH)", f"{kind}: invalid amount")]) from exc
    # The sign carries debit/credit; DebitCreditCode H on a positive amount means credit.
    if _text(element, "DebitCreditCode") == "H" and amount > 0:
        amount = -amount
    return JournalLine(
        gl_account=_text(element, "GLAccount") or _LINE_KINDS[kind],
        amount=amount,
        currency=amount_element.get("currencyCode", ""),
        text=_text(element, "DocumentItemText"),
        cost_center=_text(element, "AccountAssignment/CostCenter"),
        profit_center=_text(element, "AccountAssignment/ProfitCenter"),
        customer=_text(element, "Debtor"),
        supplier=_text(element, "Creditor"),
    )


def _header(entry: ET.Element) -> JournalHeader:
    return JournalHeader(
        company_code=_text(entry, "CompanyCode"),
        document_type=_text(entry, "AccountingDocumentType") or "SA",
        posting_date_ms=_date_ms(_text(entry, "PostingDate")),
        document_date_ms=_date_ms(_text(entry, "DocumentDate")),
        header_text=_text(entry, "DocumentHeaderText"),
        reference=_text(entry, "DocumentReferenceID"),
        original_reference=_text(entry, "OriginalReferenceDocument"),
        transaction_type=_text(entry, "BusinessTransactionType") or "RFBU",
    )


def _message_header(reference: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"<MessageHeader><ID>{uuid.uuid4().hex.upper()[:32]}</ID><UUID>{uuid.uuid4()}</UUID>"
        f"<ReferenceID>{escape(reference)}</ReferenceID><CreationDateTime>{now}</CreationDateTime>"
        "</MessageHeader>"
    )


def _log(items: list[tuple[str, str, int]]) -> str:
    worst = max((severity for _, _, severity in items), default=1)
    body = "".join(
        f"<Item><TypeID>{escape(t)}</TypeID><SeverityCode>{s}</SeverityCode>"
        f"<Note>{escape(n)}</Note></Item>"
        for t, n, s in items
    )
    return f"<Log><MaximumLogItemSeverityCode>{worst}</MaximumLogItemSeverityCode>{body}</Log>"


class JournalEntrySoapService:
    """Parses the bulk create request, posts each entry, answers the bulk confirmation."""

    def __init__(self, *, journal: Journal, logical_system: str) -> None:
        self.journal = journal
        self.logical_system = logical_system

    def handle(self, *, body: bytes, user: str) -> tuple[str, bytes]:
        """Return (SOAP namespace, response envelope).

        Raises:
            SoapFaultError: not a SOAP envelope with a JournalEntryBulkCreateRequest.
        """
        try:
            envelope = ET.fromstring(body)  # noqa: S314 - see the import comment
        except ET.ParseError as exc:
            raise SoapFaultError(f"XML parsing error: {exc}") from exc
        soap_ns = envelope.tag[1:].split("}")[0] if envelope.tag.startswith("{") else ""
        if soap_ns not in {SOAP11, SOAP12}:
            raise SoapFaultError("Request is not a SOAP envelope")
        request = envelope.find(f"{{{soap_ns}}}Body/{{{NAMESPACE}}}JournalEntryBulkCreateRequest")
        if request is None:
            raise SoapFaultError("Body does not contain JournalEntryBulkCreateRequest")
        parts = [
            self._entry(element, user) for element in request.findall("JournalEntryCreateRequest")
        ]
        bulk_ref = _text(request, "MessageHeader/ID")
        overall = (
            _log([("", "Bulk request processed", 1)]) if parts else _log([("", "No entries", 2)])
        )
        payload = (
            f'<n0:JournalEntryBulkCreateConfirmation xmlns:n0="{NAMESPACE}">'
            f"{_message_header(bulk_ref)}{''.join(parts)}{overall}"
            "</n0:JournalEntryBulkCreateConfirmation>"
        )
        envelope_xml = (
            f'<soap-env:Envelope xmlns:soap-env="{soap_ns}"><soap-env:Header/>'
            f"<soap-env:Body>{payload}</soap-env:Body></soap-env:Envelope>"
        )
        return soap_ns, envelope_xml.encode()

    def _entry(self, element: ET.Element, user: str) -> str:
        entry = element.find("JournalEntry")
        reference = _text(element, "MessageHeader/ID")
        if entry is None:
            return self._confirmation(
                reference,
                "0000000000",
                "",
                "0000",
                [("001(FINS_FI_MISC)", "JournalEntry is missing", 3)],
            )
        header = _header(entry)
        try:
            lines = [_line(kind, item) for kind in _LINE_KINDS for item in entry.findall(kind)]
            document, year = self.journal.post(header=header, lines=lines, user=user)
        except PostingError as error:
            items = [(t, n, 3) for t, n in error.items]
            return self._confirmation(reference, "0000000000", header.company_code, "0000", items)
        note = (
            f"Document posted successfully: {header.document_type} {document}"
            f"{header.company_code}{year} {self.logical_system}"
        )
        return self._confirmation(
            reference, document, header.company_code, year, [("605(RW)", note, 1)]
        )

    def _confirmation(
        self,
        reference: str,
        document: str,
        company: str,
        year: str,
        log: list[tuple[str, str, int]],
    ) -> str:
        return (
            f"<JournalEntryCreateConfirmation>{_message_header(reference)}"
            f"<JournalEntryCreateConfirmation><AccountingDocument>{document}</AccountingDocument>"
            f"<CompanyCode>{escape(company)}</CompanyCode><FiscalYear>{year}</FiscalYear>"
            f"</JournalEntryCreateConfirmation>{_log(log)}</JournalEntryCreateConfirmation>"
        )


def fault(*, soap_ns: str, message: str) -> bytes:
    """A SOAP fault envelope (1.1 or 1.2 shape)."""
    if soap_ns == SOAP12:
        inner = (
            "<env:Code><env:Value>env:Sender</env:Value></env:Code>"
            f'<env:Reason><env:Text xml:lang="en">{escape(message)}</env:Text></env:Reason>'
        )
    else:
        inner = f"<faultcode>env:Client</faultcode><faultstring>{escape(message)}</faultstring>"
    return (
        f'<env:Envelope xmlns:env="{soap_ns}"><env:Header/><env:Body><env:Fault>{inner}'
        "</env:Fault></env:Body></env:Envelope>"
    ).encode()
