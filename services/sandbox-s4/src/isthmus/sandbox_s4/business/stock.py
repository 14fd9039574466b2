"""Unrestricted-use stock per material, plant and storage location (API_MATERIAL_STOCK_SRV rows).

Every change of a stock row raises `sap.s4.beh.materialstock.v1.MaterialStock.Changed.v1` with
the row's stock key (the event type is unconfirmed, see the README's assumptions).
"""

from __future__ import annotations

from decimal import Decimal

from isthmus.sandbox_s4.errors import BusinessError, MessageDetail
from isthmus.sandbox_s4.odata import entities as ops
from isthmus.sandbox_s4.odata.edm import ServiceModel
from isthmus.sandbox_s4.odata.entities import EventSink
from isthmus.sandbox_s4.odata.values import default_value, to_wire
from isthmus.sandbox_s4.store import Store

SERVICE = "API_MATERIAL_STOCK_SRV"
UNRESTRICTED = "01"
Row = dict[str, object]
# The 11-part key of A_MatlStkInAcctMod: what a stock event names.
STOCK_KEY = (
    "Material",
    "Plant",
    "StorageLocation",
    "Batch",
    "Supplier",
    "Customer",
    "WBSElementInternalID",
    "SDDocument",
    "SDDocumentItem",
    "InventorySpecialStockType",
    "InventoryStockType",
)


class StockLedger:
    """Reads and moves unrestricted stock; the only writer of the stock API's rows.

    With ``events`` set, every row whose quantity changes raises a MaterialStock event.
    """

    def __init__(
        self, *, store: Store, model: ServiceModel, events: EventSink | None = None
    ) -> None:
        self.store = store
        self.model = model
        self.events = events

    def _rows(self, material: str, plant: str, storage_location: str) -> list[dict[str, object]]:
        return [
            r
            for r in self.store.rows(
                service=SERVICE, entity_set="A_MatlStkInAcctMod", first_key=material
            )
            if r["Plant"] == plant
            and r["InventoryStockType"] == UNRESTRICTED
            and (not storage_location or r["StorageLocation"] == storage_location)
        ]

    def available(self, *, material: str, plant: str, storage_location: str = "") -> Decimal:
        """Unrestricted stock in base units."""
        rows = self._rows(material, plant, storage_location)
        return sum((Decimal(str(r["MatlWrhsStkQtyInMatlBaseUnit"])) for r in rows), Decimal(0))

    def issue(
        self, *, material: str, plant: str, storage_location: str, quantity: Decimal, unit: str
    ) -> None:
        """Take stock out (goods issue), oldest rows first.

        Raises:
            BusinessError: `M7/021` deficit of unrestricted-use stock.
        """
        available = self.available(
            material=material, plant=plant, storage_location=storage_location
        )
        if available < quantity:
            text = (
                f"Deficit of SL Unrestricted-use {quantity - available:.3f} {unit} : "
                f"{material} {plant} {storage_location}"
            )
            raise BusinessError(text, code="M7/021", details=(MessageDetail("M7/021", text),))
        needed = quantity
        for row in self._rows(material, plant, storage_location):
            current = Decimal(str(row["MatlWrhsStkQtyInMatlBaseUnit"]))
            take = min(needed, current)
            self._write(row, current - take)
            needed -= take

    def set(
        self, *, material: str, plant: str, storage_location: str, quantity: Decimal, unit: str
    ) -> None:
        """Set the unrestricted stock of one storage location (a physical inventory count)."""
        es = self.model.entity_sets["A_MatlStkInAcctMod"]
        rows = self._rows(material, plant, storage_location)
        if not rows:
            row = {n: default_value(p) for n, p in es.entity_type.properties.items()}
            row.update(
                Material=material,
                Plant=plant,
                StorageLocation=storage_location,
                InventoryStockType=UNRESTRICTED,
                MaterialBaseUnit=unit,
            )
            rows = [row]
        header = self.model.entity_sets["A_MaterialStock"]
        if self.store.get(service=SERVICE, entity_set=header.name, key=(material,)) is None:
            self.store.put(
                service=SERVICE,
                entity_set=header.name,
                key=(material,),
                row={"Material": material, "MaterialBaseUnit": unit},
            )
        self._write(rows[0], quantity)

    def _write(self, row: dict[str, object], quantity: Decimal) -> None:
        es = self.model.entity_sets["A_MatlStkInAcctMod"]
        prop = es.entity_type.properties["MatlWrhsStkQtyInMatlBaseUnit"]
        before = row.get("MatlWrhsStkQtyInMatlBaseUnit")
        changed = before is None or Decimal(str(before)) != quantity
        row["MatlWrhsStkQtyInMatlBaseUnit"] = to_wire(prop, quantity)
        self.store.put(service=SERVICE, entity_set=es.name, key=ops.key_of(es, row), row=row)
        if changed and self.events is not None:
            self.events.emit(
                object_type="MaterialStock",
                operation="Changed",
                data={name: str(row.get(name) or "") for name in STOCK_KEY},
            )
