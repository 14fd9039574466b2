"""Journal entry posting: the SOAP service ``JournalEntryCreateRequestConfirmation_In``."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal
from xml.sax.saxutils import escape

from isthmus.connectors.s4.base import Call, S4Base
from isthmus.connectors.s4.errors import (
    S4SoapFaultError,
    S4UnexpectedError,
    SapMessage,
    map_error,
)

NAMESPACE = "http://sap.com/xi/SAPSCORE/SFIN"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ACTION = (
    "http://sap.com/xi/SAPSCORE/SFIN/JournalEntryCreateRequestConfirmation_In/"
    "JournalEntryCreateRequestConfirmation_InRequest"
)
_FAILED_SEVERITY = 3  # MaximumSeverityCode: 1 info, 2 warning, 3 error


@dataclass(frozen=True)
class JournalLine:
    """One line: a G/L item, or a debtor/creditor item when ``debtor``/``creditor`` is set."""

    amount: Decimal
    currency: str
    debit_credit: Literal["S", "H"]
    gl_account: str = ""
    debtor: str = ""
    creditor: str = ""
    text: str = ""
    cost_center: str = ""
    profit_center: str = ""


@dataclass(frozen=True)
class JournalEntry:
    """The header and lines of one journal entry to post."""

    company_code: str
    document_date: date
    posting_date: date
    reference: str
    lines: Sequence[JournalLine]
    document_type: str = "SA"
    header_text: str = ""
    created_by: str = "ISTHMUS"
    transaction_type: str = "RFBU"


@dataclass(frozen=True)
class JournalEntryConfirmation:
    """The posting's result: the accounting document and the log."""

    accounting_document: str
    company_code: str
    fiscal_year: str
    log: tuple[SapMessage, ...] = field(default=())


def _el(tag: str, value: str) -> str:
    return f"<{tag}>{escape(value)}</{tag}>" if value else ""


def _line_xml(index: int, line: JournalLine) -> str:
    tag = "DebtorItem" if line.debtor else "CreditorItem" if line.creditor else "Item"
    assignment = _el("CostCenter", line.cost_center) + _el("ProfitCenter", line.profit_center)
    return (
        f"<{tag}>{_el('ReferenceDocumentItem', str(index))}{_el('GLAccount', line.gl_account)}"
        f"{_el('Debtor', line.debtor)}{_el('Creditor', line.creditor)}"
        f'<AmountInTransactionCurrency currencyCode="{escape(line.currency)}">{line.amount}'
        f"</AmountInTransactionCurrency>{_el('DebitCreditCode', line.debit_credit)}"
        f"{_el('DocumentItemText', line.text)}"
        f"{f'<AccountAssignment>{assignment}</AccountAssignment>' if assignment else ''}</{tag}>"
    )


def journal_entry_envelope(entry: JournalEntry, *, message_id: str | None = None) -> str:
    """The SOAP 1.1 envelope of a ``JournalEntryBulkCreateRequest`` with one entry."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    identifier = _el("ID", message_id or uuid.uuid4().hex[:35])
    header = f"<MessageHeader>{identifier}{_el('CreationDateTime', now)}</MessageHeader>"
    lines = "".join(_line_xml(i, line) for i, line in enumerate(entry.lines, start=1))
    body = (
        f"<JournalEntry>{_el('OriginalReferenceDocumentType', 'BKPFF')}"
        f"{_el('OriginalReferenceDocument', entry.reference)}"
        f"{_el('BusinessTransactionType', entry.transaction_type)}"
        f"{_el('AccountingDocumentType', entry.document_type)}"
        f"{_el('DocumentReferenceID', entry.reference)}"
        f"{_el('DocumentHeaderText', entry.header_text)}"
        f"{_el('CreatedByUser', entry.created_by)}{_el('CompanyCode', entry.company_code)}"
        f"{_el('DocumentDate', entry.document_date.isoformat())}"
        f"{_el('PostingDate', entry.posting_date.isoformat())}{lines}</JournalEntry>"
    )
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:sfin="{NAMESPACE}"><soapenv:Header/>'
        f"<soapenv:Body><sfin:JournalEntryBulkCreateRequest>{header}"
        f"<JournalEntryCreateRequest>{header}{body}</JournalEntryCreateRequest>"
        "</sfin:JournalEntryBulkCreateRequest></soapenv:Body></soapenv:Envelope>"
    )


def _find_local(root: ET.Element, name: str) -> ET.Element | None:
    for element in root.iter():
        if element.tag.rpartition("}")[2] == name:
            return element
    return None


def _text(root: ET.Element | None, name: str) -> str:
    found = None if root is None else _find_local(root, name)
    return (found.text or "").strip() if found is not None else ""


def parse_confirmation(xml: str) -> JournalEntryConfirmation:
    """Read the confirmation of the first entry.

    Raises:
        S4SoapFaultError: a SOAP fault, or a log with error severity (nothing was posted).
        S4UnexpectedError: the answer is not a confirmation.
    """
    try:
        root = ET.fromstring(xml)  # noqa: S314 - answer of the configured system
    except ET.ParseError as exc:
        raise S4UnexpectedError("journal entry answer is not XML") from exc
    fault = _find_local(root, "Fault")
    if fault is not None:
        raise S4SoapFaultError(_text(fault, "faultstring") or "SOAP fault", code="SOAP")
    confirmation = _find_local(root, "JournalEntryCreateConfirmation")
    if confirmation is None:
        raise S4UnexpectedError("no JournalEntryCreateConfirmation in the answer")
    log = _find_local(root, "Log")
    items = tuple(
        SapMessage(
            code=_text(item, "TypeID"),
            message=_text(item, "Note"),
            severity=_text(item, "SeverityCode"),
        )
        for item in (log.iter() if log is not None else [])
        if item.tag.rpartition("}")[2] == "Item"
    )
    document = _text(confirmation, "AccountingDocument")
    severity = _text(log, "MaximumSeverityCode")
    if (severity.isdigit() and int(severity) >= _FAILED_SEVERITY) or document.strip("0") == "":
        notes = "; ".join(m.message for m in items) or "journal entry rejected"
        raise S4SoapFaultError(notes, code=items[0].code if items else "")
    return JournalEntryConfirmation(
        accounting_document=document,
        company_code=_text(confirmation, "CompanyCode"),
        fiscal_year=_text(confirmation, "FiscalYear"),
        log=items,
    )


class JournalEntryOperations(S4Base):
    """The synchronous journal-entry posting call."""

    async def post_journal_entry(self, entry: JournalEntry) -> JournalEntryConfirmation:
        """Post one journal entry and return its accounting document.

        Not retried once sent (a repeat would post twice); connection failures before sending are.

        Raises:
            S4SoapFaultError: S/4HANA rejected the posting.
            S4Error: the call failed.
        """
        url = f"{self.settings.base_url.rstrip('/')}{self.settings.journal_entry_path}"
        call = Call(
            "POST",
            url,
            template=self.settings.journal_entry_path,
            content=journal_entry_envelope(entry).encode(),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "Accept": "text/xml",
                "SOAPAction": f'"{SOAP_ACTION}"',
            },
            ok=(200, 500),
            idempotent=False,
        )
        response = await self._call(call)
        if response.status_code != 200 and "Fault>" not in response.text:  # noqa: PLR2004
            raise map_error(response)
        return parse_confirmation(response.text)
