"""Coalesced hydration and constant-time webhook authentication (pure, no network)."""

from __future__ import annotations

import asyncio
import base64

import pytest
from pydantic import SecretStr

from isthmus.ingress.adapters.hydrator import CoalescingHydrator, Hydrated
from isthmus.ingress.auth import TokenIssuer, check_dataverse, check_sap
from isthmus.ingress.core.events import Hydration
from isthmus.ingress.errors import ForbiddenError, UnauthenticatedError
from isthmus.ingress.settings import DataverseWebhookSettings, SapEventSettings

pytestmark = pytest.mark.unit
ORDER = Hydration("s4", "A_SalesOrder", "1", ("to_Item",), "API_SALES_ORDER_SRV")


class CountingReader:
    def __init__(self) -> None:
        self.count = 0

    def reads(self, system: str) -> bool:
        return system == "s4"

    async def __call__(self, request: Hydration, /) -> Hydrated:
        self.count += 1
        await asyncio.sleep(0.01)
        return Hydrated(data={"SalesOrder": request.key}, version=str(self.count))


def test_a_burst_shares_one_read_and_later_events_get_a_fresh_one() -> None:
    reader = CountingReader()
    hydrator = CoalescingHydrator(reader=reader, windows_s={"s4": 0.05})

    async def scenario() -> tuple[list[Hydrated], Hydrated]:
        burst = await asyncio.gather(*(hydrator.hydrate(ORDER) for _ in range(20)))
        later = await hydrator.hydrate(ORDER)
        return list(burst), later

    burst, later = asyncio.run(scenario())
    assert {h.version for h in burst} == {"1"}
    assert later.version == "2"
    assert reader.count == 2


def test_systems_without_a_reader_are_not_hydrated() -> None:
    hydrator = CoalescingHydrator(reader=CountingReader(), windows_s={})
    found = asyncio.run(hydrator.hydrate(Hydration("d365", "accounts", "x")))
    assert found.data is None
    assert not hydrator.reads("d365")


@pytest.mark.parametrize(
    ("auth_type", "where"),
    [("WebhookKey", "query"), ("HttpQueryString", "query"), ("HttpHeader", "headers")],
)
def test_each_webhook_auth_type(auth_type: str, where: str) -> None:
    pairs = (
        {"code": SecretStr("k1")} if auth_type == "WebhookKey" else {"x-api-key": SecretStr("k1")}
    )
    settings = DataverseWebhookSettings(auth_type=auth_type, auth_pairs=pairs)  # type: ignore[arg-type]
    name = next(iter(pairs))

    def call(value: str | None) -> None:
        given = {} if value is None else {name: value}
        headers, query = (given, {}) if where == "headers" else ({}, given)
        check_dataverse(settings=settings, headers=headers, query=query)

    call("k1")
    with pytest.raises(UnauthenticatedError):
        call(None)
    with pytest.raises(ForbiddenError):
        call("k2")


def test_sap_basic_and_issued_bearer_tokens() -> None:
    settings = SapEventSettings(
        user="mesh",
        password=SecretStr("pw"),
        oauth_client_id="c",
        oauth_client_secret=SecretStr("s"),
    )
    tokens = TokenIssuer(settings=settings, key=b"k" * 32)
    basic = "Basic " + base64.b64encode(b"mesh:pw").decode()
    check_sap(settings=settings, tokens=tokens, authorization=basic)
    token, lifetime = tokens.issue(client_id="c", client_secret="s")
    check_sap(settings=settings, tokens=tokens, authorization=f"Bearer {token}")
    assert lifetime == 3600
    with pytest.raises(ForbiddenError):
        check_sap(
            settings=settings,
            tokens=tokens,
            authorization="Basic " + base64.b64encode(b"mesh:no").decode(),
        )
    with pytest.raises(ForbiddenError):
        check_sap(
            settings=settings,
            tokens=TokenIssuer(settings=settings, key=b"x" * 32),
            authorization=f"Bearer {token}",
        )
    with pytest.raises(UnauthenticatedError):
        check_sap(settings=settings, tokens=tokens, authorization=None)
    with pytest.raises(ForbiddenError):
        tokens.issue(client_id="c", client_secret="wrong")
