"""Unbound functions and actions: WhoAmI, FulfillSalesOrder, CancelSalesOrder, invoicing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from isthmus.sandbox_d365.errors import INVALID_ARGUMENT, DataverseError, QueryError
from isthmus.sandbox_d365.http.webapi import WebApi
from isthmus.sandbox_d365.odata.messages import ApiRequest, ApiResponse
from isthmus.sandbox_d365.odata.query import Query
from isthmus.sandbox_d365.odata.refs import GUID, KeyRef, parse_reference

_LINE_COPY = (
    "quantity",
    "priceperunit",
    "manualdiscountamount",
    "tax",
    "productdescription",
    "isproductoverridden",
)


class Actions:
    """Registers the organisation's actions on a :class:`WebApi`."""

    def __init__(self, *, api: WebApi, organization_id: str, business_unit_id: str) -> None:
        self._api = api
        self._org = organization_id
        self._bu = business_unit_id
        api.actions[("GET", "WhoAmI")] = self.who_am_i
        api.actions[("POST", "FulfillSalesOrder")] = self.fulfill
        api.actions[("POST", "CancelSalesOrder")] = self.cancel
        api.actions[("POST", "ConvertSalesOrderToInvoice")] = self.convert_to_invoice

    def who_am_i(self, request: ApiRequest) -> ApiResponse:
        """``GET WhoAmI``."""
        return ApiResponse.of_json(
            200,
            {
                "@odata.context": f"{request.base}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": self._bu,
                "UserId": request.user_id,
                "OrganizationId": self._org,
            },
        )

    def _order_close(self, request: ApiRequest) -> tuple[KeyRef, int | None]:
        body = request.json()
        close = body.get("OrderClose") if isinstance(body, dict) else None
        if not isinstance(close, dict) or not isinstance(close.get("salesorderid@odata.bind"), str):
            raise QueryError("OrderClose with salesorderid@odata.bind is required.")
        table, ref = parse_reference(close["salesorderid@odata.bind"], self._api.catalogue)
        if table.logical != "salesorder":
            raise QueryError("OrderClose.salesorderid must reference a salesorder.")
        status = body.get("Status")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
            raise QueryError(
                f"Cannot convert the literal '{status}' to the expected type 'Edm.Int32'."
            )
        return ref, status

    def _close(
        self, request: ApiRequest, *, state: int, default_status: int, stamp: bool
    ) -> ApiResponse:
        ref, status = self._order_close(request)
        table = self._api.catalogue.table("salesorder")
        row = self._api.records.require(table, ref)
        if row.get("statecode") not in (0, 1):
            raise DataverseError(
                status=400,
                code=INVALID_ARGUMENT,
                message=f"The salesorder {row['salesorderid']} is already closed.",
            )
        body: dict[str, Any] = {"statecode": state, "statuscode": status or default_status}
        if stamp:
            body["datefulfilled"] = dt.datetime.now(dt.UTC).date().isoformat()
        self._api.records.update(
            table, KeyRef(row_id=row["salesorderid"]), body, user_id=request.user_id
        )
        return ApiResponse.empty(204)

    def fulfill(self, request: ApiRequest) -> ApiResponse:
        """``FulfillSalesOrder``: statecode 3 (Fulfilled), the shipment confirmation."""
        return self._close(request, state=3, default_status=100001, stamp=True)

    def cancel(self, request: ApiRequest) -> ApiResponse:
        """``CancelSalesOrder``: statecode 2 (Canceled)."""
        return self._close(request, state=2, default_status=4, stamp=False)

    def convert_to_invoice(self, request: ApiRequest) -> ApiResponse:
        """``ConvertSalesOrderToInvoice``: new invoice with the order's lines."""
        body = request.json()
        order_id = body.get("SalesOrderId") if isinstance(body, dict) else None
        if not isinstance(order_id, str) or not GUID.match(order_id):
            raise QueryError("SalesOrderId is required.")
        records, catalogue = self._api.records, self._api.catalogue
        orders, invoices = catalogue.table("salesorder"), catalogue.table("invoice")
        with records.store.transaction():
            order = dict(records.require(orders, KeyRef(row_id=order_id.lower())))
            invoice = records.create(invoices, self._invoice_body(order), user_id=request.user_id)
            records.update(
                orders,
                KeyRef(row_id=order["salesorderid"]),
                {"statecode": 4, "statuscode": 100003},
                user_id=request.user_id,
            )
        ser = self._api.serializer(request)
        payload = {
            "@odata.context": f"{request.base}/$metadata#invoices/$entity",
            **ser.entity(invoices, invoice, Query()),
        }
        return ApiResponse.of_json(200, payload)

    def _invoice_body(self, order: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": order.get("name"),
            "salesorderid@odata.bind": f"/salesorders({order['salesorderid']})",
        }
        for column in ("discountamount", "discountpercentage", "freightamount", "description"):
            body[column] = order.get(column)
        customer = order.get("_customerid_value")
        if customer:
            kind = order.get("~customerid") or "account"
            body[f"customerid_{kind}@odata.bind"] = f"/{kind}s({customer})"
        for lookup, entity_set in (
            ("pricelevelid", "pricelevels"),
            ("transactioncurrencyid", "transactioncurrencies"),
        ):
            if order.get(f"_{lookup}_value"):
                body[f"{lookup}@odata.bind"] = f"/{entity_set}({order[f'_{lookup}_value']})"
        lines = [
            line
            for line in self._api.records.store.related(
                "salesorderdetail", "_salesorderid_value", order["salesorderid"]
            )
            if line.get("_salesorderid_value") == order["salesorderid"]
        ]
        body["invoice_details"] = [self._invoice_line(line) for line in lines]
        return body

    @staticmethod
    def _invoice_line(line: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {c: line.get(c) for c in _LINE_COPY if line.get(c) is not None}
        item["ispriceoverridden"] = True
        if line.get("_productid_value"):
            item["productid@odata.bind"] = f"/products({line['_productid_value']})"
        if line.get("_uomid_value"):
            item["uomid@odata.bind"] = f"/uoms({line['_uomid_value']})"
        return item
