"""The table catalogue of the sandbox organisation."""

from __future__ import annotations

from isthmus.sandbox_d365.business import sales_tables, tables
from isthmus.sandbox_d365.odata.schema import Catalogue


def build_catalogue() -> Catalogue:
    """Every table the Web API serves."""
    return Catalogue(
        [
            tables.account(),
            tables.contact(),
            tables.product(),
            *tables.master_tables(),
            sales_tables.salesorder(),
            sales_tables.invoice(),
            *sales_tables.lines(),
            *sales_tables.registry(),
        ]
    )
