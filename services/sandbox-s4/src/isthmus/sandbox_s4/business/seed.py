"""Load the seed catalogue into the store (idempotent: existing entities are overwritten)."""

from __future__ import annotations

from typing import Any

from isthmus.sandbox_s4.business import catalogue as cat
from isthmus.sandbox_s4.business.masterdata import COMPANY, ORDER_TYPE, PLANT, PRICE, SALES_ORG
from isthmus.sandbox_s4.odata import entities as ops
from isthmus.sandbox_s4.odata.edm import ServiceModel
from isthmus.sandbox_s4.odata.values import default_value, to_wire
from isthmus.sandbox_s4.store import Store

_SEED_USER = "SAP_SYSTEM"


class Seeder:
    """Writes full rows (read-only fields included) the way SAP would have them."""

    def __init__(self, *, store: Store, models: dict[str, ServiceModel]) -> None:
        self.store = store
        self.models = models

    def put(self, service: str, entity_set: str, values: dict[str, Any]) -> None:
        """Store one entity with defaults for every property not given."""
        es = self.models[service].entity_sets[entity_set]
        props = es.entity_type.properties
        row = {name: default_value(p) for name, p in props.items()}
        ops.stamp_created(es, row, _SEED_USER)
        row.update({k: to_wire(props[k], v) for k, v in values.items()})
        self.store.put(service=service, entity_set=entity_set, key=ops.key_of(es, row), row=row)

    def run(self) -> None:
        """Seed customizing, customers, products, prices and stock."""
        with self.store.transaction():
            self._customizing()
            for customer in cat.CUSTOMERS:
                self._customer(customer)
            for material, product in cat.PRODUCTS.items():
                text, unit, kind, prices, stock = product
                self._product(material, text=text, unit=unit, kind=kind, prices=prices, stock=stock)

    def _customizing(self) -> None:
        for kind, entries in (
            (COMPANY, cat.COMPANIES),
            (SALES_ORG, cat.SALES_ORGS),
            (PLANT, cat.PLANTS),
            (ORDER_TYPE, cat.ORDER_TYPES),
        ):
            for name, data in entries.items():
                self.store.put_document(kind=kind, name=name, data=data)

    def _customer(self, customer: dict[str, Any]) -> None:
        bp = "API_BUSINESS_PARTNER"
        number, name = customer["BusinessPartner"], customer["name"]
        self.put(
            bp,
            "A_BusinessPartner",
            {
                "BusinessPartner": number,
                "Customer": number,
                "BusinessPartnerCategory": "2",
                "BusinessPartnerGrouping": "BP02",
                "OrganizationBPName1": name,
                "BusinessPartnerFullName": name,
                "BusinessPartnerName": name,
                "SearchTerm1": name.upper()[:20],
                "BusinessPartnerIsBlocked": customer["blocked"],
            },
        )
        for role in ("FLCU00", "FLCU01"):
            self.put(
                bp,
                "A_BusinessPartnerRole",
                {"BusinessPartner": number, "BusinessPartnerRole": role},
            )
        self.put(
            bp,
            "A_BusinessPartnerAddress",
            {
                "BusinessPartner": number,
                "AddressID": "1",
                "Country": customer["country"],
                "CityName": customer["city"],
                "Language": "EN",
            },
        )
        self.put(
            bp,
            "A_Customer",
            {
                "Customer": number,
                "CustomerName": name,
                "CustomerFullName": name,
                "CustomerAccountGroup": "CUST",
                "OrderIsBlockedForCustomer": "01" if customer["blocked"] else "",
            },
        )
        for org in customer["sales_orgs"]:
            self._sales_area(number, org)

    def _sales_area(self, number: str, org: str) -> None:
        bp = "API_BUSINESS_PARTNER"
        self.put(
            bp,
            "A_CustomerSalesArea",
            {
                "Customer": number,
                "SalesOrganization": org,
                "DistributionChannel": cat.DISTRIBUTION_CHANNEL,
                "Division": cat.DIVISION,
                "Currency": cat.SALES_ORGS[org]["currency"],
                "CustomerPaymentTerms": "0001",
                "IncotermsClassification": "EXW",
                "ShippingCondition": "01",
                "SupplyingPlant": cat.SALES_ORGS[org]["plant"],
            },
        )
        self.put(
            bp,
            "A_CustomerCompany",
            {
                "Customer": number,
                "CompanyCode": cat.SALES_ORGS[org]["company_code"],
                "PaymentTerms": "0001",
                "ReconciliationAccount": "12100000",
            },
        )

    def _product(
        self, material: str, *, text: str, unit: str, kind: str, prices: dict[str, str], stock: str
    ) -> None:
        product = "API_PRODUCT_SRV"
        self.put(
            product,
            "A_Product",
            {
                "Product": material,
                "ProductType": kind,
                "BaseUnit": unit,
                "ItemCategoryGroup": "NORM",
                "IndustrySector": "M",
                "Division": cat.DIVISION,
                "WeightUnit": "KG",
            },
        )
        self.put(
            product,
            "A_ProductDescription",
            {
                "Product": material,
                "Language": "EN",
                "ProductDescription": text,
            },
        )
        for org, amount in prices.items():
            plant = cat.SALES_ORGS[org]["plant"]
            self.store.put_document(
                kind=PRICE,
                name=f"{org}/{material}",
                data={"amount": amount, "currency": cat.SALES_ORGS[org]["currency"]},
            )
            self.put(
                product, "A_ProductPlant", {"Product": material, "Plant": plant, "BaseUnit": unit}
            )
            self.put(
                product,
                "A_ProductSalesDelivery",
                {
                    "Product": material,
                    "ProductSalesOrg": org,
                    "ProductDistributionChnl": cat.DISTRIBUTION_CHANNEL,
                    "SupplyingPlant": plant,
                    "ItemCategoryGroup": "NORM",
                    "BaseUnit": unit,
                },
            )
            self._stock(material, plant, unit, stock)

    def _stock(self, material: str, plant: str, unit: str, quantity: str) -> None:
        stock = "API_MATERIAL_STOCK_SRV"
        self.put(stock, "A_MaterialStock", {"Material": material, "MaterialBaseUnit": unit})
        self.put(
            stock,
            "A_MatlStkInAcctMod",
            {
                "Material": material,
                "Plant": plant,
                "StorageLocation": cat.PLANTS[plant]["storage_location"],
                "InventoryStockType": "01",
                "MaterialBaseUnit": unit,
                "MatlWrhsStkQtyInMatlBaseUnit": quantity,
            },
        )
