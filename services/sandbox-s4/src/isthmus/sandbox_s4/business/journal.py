"""Financial postings: balanced journal entries stored as A_JournalEntryItemBasic rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from isthmus.sandbox_kit.odata_date import format_date, from_ms
from isthmus.sandbox_s4.business.masterdata import MasterData
from isthmus.sandbox_s4.odata.edm import ServiceModel
from isthmus.sandbox_s4.odata.values import default_value, to_wire, today_ms
from isthmus.sandbox_s4.store import Store

SERVICE = "API_JOURNALENTRYITEMBASIC_SRV"
RECEIVABLES_ACCOUNT = "12100000"
PAYABLES_ACCOUNT = "21100000"
REVENUE_ACCOUNT = "41000000"
OUTPUT_TAX_ACCOUNT = "22000000"


@dataclass(frozen=True)
class JournalLine:
    """One line: signed amount (debit positive, credit negative) on a G/L account."""

    gl_account: str
    amount: Decimal
    currency: str
    text: str = ""
    cost_center: str = ""
    profit_center: str = ""
    customer: str = ""
    supplier: str = ""


@dataclass
class JournalHeader:
    """Header data of a journal entry."""

    company_code: str
    document_type: str
    posting_date_ms: int = field(default_factory=today_ms)
    document_date_ms: int = field(default_factory=today_ms)
    header_text: str = ""
    reference: str = ""
    original_reference: str = ""
    transaction_type: str = "RFBU"


class PostingError(Exception):
    """The entry cannot be posted; carries SAP log items (type id, note)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        super().__init__(items[0][1])
        self.items = items


class Journal:
    """Posts balanced entries with number ranges per company code and fiscal year."""

    def __init__(self, *, store: Store, model: ServiceModel, master: MasterData) -> None:
        self.store = store
        self.model = model
        self.master = master

    def check(self, header: JournalHeader, lines: list[JournalLine]) -> None:
        """Validate an entry before posting.

        Raises:
            PostingError: unknown company code, no lines, missing account or unbalanced.
        """
        problems: list[tuple[str, str]] = []
        if self.master.company(header.company_code) is None:
            problems.append(("165(F5)", f"Company code {header.company_code} does not exist"))
        if len(lines) < 2:  # noqa: PLR2004 - a journal entry needs a debit and a credit
            problems.append(("703(F5)", "A journal entry needs at least two line items"))
        if any(not line.gl_account for line in lines):
            problems.append(("020(FH)", "Enter a G/L account for every line item"))
        balance = sum((line.amount for line in lines), Decimal(0))
        if balance != 0:
            currency = lines[0].currency if lines else ""
            problems.append(
                ("702(F5)", f"Balance in transaction currency {currency} is not zero: {balance}")
            )
        if problems:
            raise PostingError(problems)

    def post(
        self, *, header: JournalHeader, lines: list[JournalLine], user: str
    ) -> tuple[str, str]:
        """Store the entry; return (accounting document, fiscal year).

        Raises:
            PostingError: the entry fails :meth:`check`.
        """
        self.check(header, lines)
        year = str(from_ms(header.posting_date_ms).year)
        number = self.store.next_number(
            name=f"accounting/{header.company_code}/{year}", start=100000000
        )
        document = f"{number:010d}"
        company = self.master.company(header.company_code)
        for index, line in enumerate(lines, start=1):
            self._item(
                header,
                line,
                document=document,
                year=year,
                index=index,
                user=user,
                company_currency=company.currency if company else line.currency,
            )
        return document, year

    def _item(
        self,
        header: JournalHeader,
        line: JournalLine,
        *,
        document: str,
        year: str,
        index: int,
        user: str,
        company_currency: str,
    ) -> None:
        es = self.model.entity_sets["A_JournalEntryItemBasic"]
        props = es.entity_type.properties
        row = {name: default_value(p) for name, p in props.items()}
        values = {
            "ID": f"0L{header.company_code}{year}{document}{index:06d}",
            "CompanyCode": header.company_code,
            "FiscalYear": year,
            "AccountingDocument": document,
            "LedgerGLLineItem": f"{index:06d}",
            "Ledger": "0L",
            "AccountingDocumentItem": f"{index:03d}",
            "FiscalPeriod": f"{from_ms(header.posting_date_ms).month:03d}",
            "AccountingDocumentType": header.document_type,
            "PostingDate": format_date(header.posting_date_ms),
            "DocumentDate": format_date(header.document_date_ms),
            "GLAccount": line.gl_account,
            "DebitCreditCode": "S" if line.amount >= 0 else "H",
            "AmountInTransactionCurrency": line.amount,
            "TransactionCurrency": line.currency,
            "AmountInCompanyCodeCurrency": line.amount,
            "CompanyCodeCurrency": company_currency,
            "DocumentItemText": line.text[:50],
            "AccountingDocumentHeaderText": header.header_text[:25],
            "DocumentReferenceID": header.reference[:16],
            "OriginalReferenceDocument": header.original_reference[:20],
            "BusinessTransactionType": header.transaction_type,
            "CostCenter": line.cost_center,
            "ProfitCenter": line.profit_center,
            "Customer": line.customer,
            "Supplier": line.supplier,
            "AccountingDocumentCreationDate": format_date(today_ms()),
            "AccountingDocCreatedByUser": user[:12],
        }
        row.update({k: to_wire(props[k], v) for k, v in values.items()})
        self.store.put(service=SERVICE, entity_set=es.name, key=(row["ID"],), row=row)
