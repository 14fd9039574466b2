"""API_BUSINESS_PARTNER: deep create with roles and addresses, implicit A_Customer, sales areas."""

from __future__ import annotations

import uuid

from isthmus.sandbox_kit.odata_date import format_date
from isthmus.sandbox_s4.business.masterdata import MasterData
from isthmus.sandbox_s4.errors import BusinessError, MessageDetail
from isthmus.sandbox_s4.odata import entities as ops
from isthmus.sandbox_s4.odata.edm import EntitySet
from isthmus.sandbox_s4.odata.entities import Context, Creator, Row
from isthmus.sandbox_s4.odata.values import now_ms
from isthmus.sandbox_s4.odata.wire import EventSpec, ServiceBehaviour

SERVICE = "API_BUSINESS_PARTNER"
CUSTOMER_ROLES = frozenset({"FLCU00", "FLCU01"})
SUPPLIER_ROLES = frozenset({"FLVN00", "FLVN01"})
KNOWN_ROLES = CUSTOMER_ROLES | SUPPLIER_ROLES | {"BUP001", "BUP002", "BUP003"}
_COMM_SETS = (
    "A_AddressEmailAddress",
    "A_AddressPhoneNumber",
    "A_AddressFaxNumber",
    "A_AddressHomePageURL",
)
_END_OF_TIME = format_date(253402300799000, offset=True)


def _fail(code: str, text: str) -> BusinessError:
    return BusinessError(text, code=code, details=(MessageDetail(code, text),))


class BusinessPartners:
    """Creates business partners with their dependent customer data."""

    def __init__(self, *, master: MasterData) -> None:
        self.master = master

    def behaviour(self) -> ServiceBehaviour:
        """Creators and events of the service."""
        creators: dict[str, Creator] = {
            "A_BusinessPartner": self.create_partner,
            "A_BusinessPartnerRole": self.create_role,
            "A_BusinessPartnerAddress": self.create_address,
            "A_BuPaAddressUsage": self.create_usage,
            "A_CustomerSalesArea": self.create_sales_area,
        }
        creators.update(dict.fromkeys(_COMM_SETS, self.create_communication))
        return ServiceBehaviour(
            component_id="LO-MD-BP",
            creators=creators,
            events={"A_BusinessPartner": EventSpec("BusinessPartner", ("BusinessPartner",))},
        )

    def _number(self, ctx: Context, given: str) -> str:
        if given:
            if ctx.store.get(service=SERVICE, entity_set="A_BusinessPartner", key=(given,)):
                raise _fail("R1/286", f"Business partner {given} already exists")
            return given
        while True:
            number = str(ctx.store.next_number(name="businesspartner", start=1000000))
            if (
                ctx.store.get(service=SERVICE, entity_set="A_BusinessPartner", key=(number,))
                is None
            ):
                return number

    def create_partner(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """Create a partner; customer roles create A_Customer implicitly.

        Raises:
            BusinessError: invalid category, missing name, unknown role or duplicate number.
        """
        row = ops.new_row(es, props)
        category = row["BusinessPartnerCategory"]
        if category not in {"1", "2", "3"}:
            raise _fail("R1/062", f"Business partner category {category or '(blank)'} is not valid")
        if category == "1":
            full_name = f"{row['FirstName']} {row['LastName']}".strip()
        else:
            full_name = " ".join(
                filter(None, (row["OrganizationBPName1"], row["OrganizationBPName2"]))
            )
        if not full_name:
            raise _fail("R1/146", "Enter a name for the business partner")
        row["BusinessPartner"] = self._number(ctx, str(props.get("BusinessPartner") or ""))
        row["BusinessPartnerFullName"] = row["BusinessPartnerName"] = full_name
        row["BusinessPartnerUUID"] = str(uuid.uuid4())
        row["SearchTerm1"] = (row["SearchTerm1"] or full_name).upper()[:20]
        row["IsNaturalPerson"] = "X" if category == "1" else ""
        ops.stamp_created(es, row, ctx.user)
        ops.insert(ctx, es, row)
        ops.create_children(ctx, es, row, {k: v for k, v in navs.items() if k != "to_Customer"})
        fresh = ctx.store.get(service=SERVICE, entity_set=es.name, key=(row["BusinessPartner"],))
        row = fresh or row
        if "to_Customer" in navs:
            self._customer_payload(ctx, row, navs["to_Customer"])
        return row

    def create_role(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """Add a role; customer and supplier roles create the dependent master record.

        Raises:
            BusinessError: unknown role or partner.
        """
        role, partner_id = (
            str(props.get("BusinessPartnerRole", "")),
            str(props.get("BusinessPartner", "")),
        )
        partner = ctx.store.get(service=SERVICE, entity_set="A_BusinessPartner", key=(partner_id,))
        if partner is None:
            raise _fail("R1/132", f"Business partner {partner_id} does not exist")
        if role not in KNOWN_ROLES:
            raise _fail("R11/657", f"BP role {role} does not exist for partner {partner_id}")
        row = ops.generic_create(ctx, es, props, navs)
        if role in CUSTOMER_ROLES and not partner["Customer"]:
            self._ensure_customer(ctx, partner)
        if role in SUPPLIER_ROLES and not partner["Supplier"]:
            partner["Supplier"] = partner_id
            supplier_es = ctx.entity_set("A_Supplier")
            ops.insert(ctx, supplier_es, ops.new_row(supplier_es, {"Supplier": partner_id}))
            ops.save(ctx, ctx.entity_set("A_BusinessPartner"), partner)
        return row

    def _ensure_customer(self, ctx: Context, partner: Row) -> Row:
        customer_es = ctx.entity_set("A_Customer")
        number = partner["BusinessPartner"]
        existing = ctx.store.get(service=SERVICE, entity_set="A_Customer", key=(number,))
        if existing is not None:
            return existing
        customer = ops.new_row(customer_es, {"Customer": number})
        customer.update(
            CustomerName=partner["BusinessPartnerFullName"][:35],
            CustomerFullName=partner["BusinessPartnerFullName"],
            CustomerAccountGroup="CUST",
        )
        ops.stamp_created(customer_es, customer, ctx.user)
        ops.insert(ctx, customer_es, customer)
        partner["Customer"] = number
        ops.save(ctx, ctx.entity_set("A_BusinessPartner"), partner)
        return customer

    def _customer_payload(self, ctx: Context, partner: Row, payloads: list[Row]) -> None:
        customer_es = ctx.entity_set("A_Customer")
        customer = self._ensure_customer(ctx, partner)
        for payload in payloads:
            props, navs = ops.split_payload(customer_es, payload)
            customer.update(ops.apply_update(customer_es, customer, props, replace=False))
            ops.save(ctx, customer_es, customer)
            ops.create_children(ctx, customer_es, customer, navs)

    def create_address(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """Create an address with an internal address number and a default usage."""
        props["AddressID"] = props.get("AddressID") or str(
            ctx.store.next_number(name="address", start=30000)
        )
        row = ops.generic_create(ctx, es, props, navs)
        if "to_AddressUsage" not in navs:
            ops.create_children(ctx, es, row, {"to_AddressUsage": [{"AddressUsage": "XXDEFAULT"}]})
        return row

    def create_usage(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """Address usages are valid until the end of time unless told otherwise."""
        props["ValidityEndDate"] = props.get("ValidityEndDate") or _END_OF_TIME
        props["ValidityStartDate"] = props.get("ValidityStartDate") or format_date(
            now_ms(), offset=True
        )
        return ops.generic_create(ctx, es, props, navs)

    def create_communication(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """E-mail, phone, fax and URL entries get the next ordinal number of their address."""
        if not props.get("OrdinalNumber"):
            existing = ctx.store.rows(
                service=SERVICE, entity_set=es.name, first_key=str(props.get("AddressID"))
            )
            props["OrdinalNumber"] = str(len(existing) + 1)
        return ops.generic_create(ctx, es, props, navs)

    def create_sales_area(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """Extend a customer to a sales area.

        Raises:
            BusinessError: unknown customer or sales organisation.
        """
        customer = str(props.get("Customer", ""))
        if ctx.store.get(service=SERVICE, entity_set="A_Customer", key=(customer,)) is None:
            raise _fail("VP/112", f"Customer {customer} does not exist")
        org = self.master.sales_org(str(props.get("SalesOrganization", "")))
        if org is None:
            raise _fail(
                "V1/044", f"Sales organization {props.get('SalesOrganization')} is not defined"
            )
        props["Currency"] = props.get("Currency") or org.currency
        return ops.generic_create(ctx, es, props, navs)
