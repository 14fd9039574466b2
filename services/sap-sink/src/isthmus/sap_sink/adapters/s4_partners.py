"""Business partners: created once with everything; later changes write only the listed fields."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.errors import S4NotFoundError
from isthmus.connectors.s4.idempotency import (
    BUSINESS_PARTNER_SERVICE,
    create_business_partner_once,
)
from isthmus.sap_sink.core import payloads as p
from isthmus.sap_sink.core.partner_changes import (
    ADDRESS,
    EMAIL,
    PHONE,
    PartnerChanges,
    partner_changes,
    results,
    write_list,
)
from isthmus.sink.model import Command, ResultStatus, Success, XrefLink

logger = logging.getLogger(__name__)

_COMMUNICATION = {PHONE: "A_AddressPhoneNumber", EMAIL: "A_AddressEmailAddress"}
_EXPAND = (f"{ADDRESS}/to_PhoneNumber", f"{ADDRESS}/to_EmailAddress")
NOTHING_TO_WRITE = "no field to write: the change touches only fields S/4 owns"


class PartnerWriter:
    """Writes a ``PartnerChanges`` to S/4 through API_BUSINESS_PARTNER (no deep update there)."""

    def __init__(self, *, client: S4Client) -> None:
        self._client = client

    async def change(self, *, number: str, changes: PartnerChanges) -> None:
        """Write the partner's, its first address's and its sales area's changed fields.

        Raises:
            S4NotFoundError: the partner does not exist.
            ConnectorError: S/4 refused or did not answer a write.
        """
        if changes.partner:
            await self._update("A_BusinessPartner", number, changes.partner)
        if changes.address or changes.phone is not None or changes.email is not None:
            await self._address(number, changes)
        if changes.sales_area and len(changes.sales_area_key) == 3:  # noqa: PLR2004 - its key
            await self._sales_area(number, changes)

    async def _update(self, entity_set: str, key: str | dict[str, str], body: Any) -> None:
        await self._client.update(BUSINESS_PARTNER_SERVICE, entity_set, key, body)

    async def _address(self, number: str, changes: PartnerChanges) -> None:
        partner = await self._client.read(
            BUSINESS_PARTNER_SERVICE, "A_BusinessPartner", number, expand=_EXPAND
        )
        addresses = results(partner.data.get(ADDRESS))
        if not addresses:
            logger.warning("partner has no address to change", extra={"key": number})
            return
        address = addresses[0]
        address_id = str(address["AddressID"])
        if changes.address:
            key = {"BusinessPartner": number, "AddressID": address_id}
            await self._update("A_BusinessPartnerAddress", key, changes.address)
        for name, value in ((PHONE, changes.phone), (EMAIL, changes.email)):
            if value is not None:
                await self._communication(address, address_id, name, value)

    async def _communication(
        self, address: Mapping[str, Any], address_id: str, name: str, value: str
    ) -> None:
        entity_set = _COMMUNICATION[name]
        existing = results(address.get(f"to_{name}"))
        if existing:
            first = existing[0]
            key = {
                "AddressID": address_id,
                "Person": str(first.get("Person") or ""),
                "OrdinalNumber": str(first.get("OrdinalNumber") or "1"),
            }
            await self._update(entity_set, key, {name: value})
        elif value:
            body = {"AddressID": address_id, "Person": "", name: value}
            await self._client.create(BUSINESS_PARTNER_SERVICE, entity_set, body)

    async def _sales_area(self, number: str, changes: PartnerChanges) -> None:
        key = {"Customer": number, **changes.sales_area_key}
        try:
            await self._update("A_CustomerSalesArea", key, changes.sales_area)
        except S4NotFoundError:  # a new sales area (e.g. the country moved it)
            body = {**key, **changes.sales_area}
            await self._client.create(BUSINESS_PARTNER_SERVICE, "A_CustomerSalesArea", body)


async def write_business_partner(*, client: S4Client, command: Command) -> Success:
    """Create the partner once (all fields), or write a known partner's listed fields only.

    An empty ``header.writeFields`` writes nothing: the result is DUPLICATE, with no state.

    Raises:
        ConnectorError: S/4 refused or did not answer.
    """
    value = command.value
    number = value.get("BusinessPartner")
    if not number:
        outcome = await create_business_partner_once(client, body=p.partner_body(value))
        partner = str(outcome.entity.data["BusinessPartner"])
        return _success(
            command,
            partner,
            ResultStatus.SUCCEEDED if outcome.created else ResultStatus.DUPLICATE,
            state=p.state_fields(outcome.entity.data, p.PARTNER_STATE),
            version=outcome.entity.etag,
        )
    changes = partner_changes(value, write_list(value))
    if changes.empty:
        return _success(command, str(number), ResultStatus.DUPLICATE, message=NOTHING_TO_WRITE)
    await PartnerWriter(client=client).change(number=str(number), changes=changes)
    return _success(command, str(number), ResultStatus.SUCCEEDED, state=changes.state_fields())


def _success(
    command: Command,
    partner: str,
    status: ResultStatus,
    *,
    state: Mapping[str, str | None] | None = None,
    version: str | None = None,
    message: str | None = None,
) -> Success:
    return Success(
        status=status,
        target_id=partner,
        target_ids={"BusinessPartner": partner},
        state_key=None if state is None else partner,
        state_fields=state or {},
        version=version,
        xref=[XrefLink("account", command.key, partner, "S4")],
        message=message,
    )
