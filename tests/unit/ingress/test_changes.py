"""Changed fields of thin S/4 events: the read record against the last known state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from isthmus.ingress.core.changes import KnownStates, flatten
from isthmus.kafka.catalogue import load_catalogue

TOPICS = load_catalogue(Path(__file__).parents[3] / "deploy" / "topics.yaml")
T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def _partner(name: str, phone: str | None = None, terms: str = "NT30") -> dict[str, object]:
    return {
        "BusinessPartner": "1000001",
        "OrganizationBPName1": name,
        "to_BusinessPartnerAddress": [{"CityName": "Walldorf", "PhoneNumber": phone}],
        "to_Customer": {"to_CustomerSalesArea": [{"CustomerPaymentTerms": terms}]},
    }


def test_a_record_flattens_to_paths_in_string_form() -> None:
    assert flatten({"a": {"b": [1, {"c": True}]}, "d": None}) == {
        "a.b[0]": "1",
        "a.b[1].c": "true",
        "d": None,
    }


def test_the_catalogue_names_the_state_topic_of_an_event_topic_with_its_prefix() -> None:
    assert TOPICS.state_topic("s4.businesspartner.events") == "state.s4.businesspartner"
    assert TOPICS.state_topic("t1-s4.businesspartner.events") == "t1-state.s4.businesspartner"
    assert TOPICS.state_topic("audit.events") is None
    assert TOPICS.state_topic("not.in.catalogue") is None
    meaning = TOPICS.meaning("t1-d365.salesorder.events")
    assert (meaning.system, meaning.entity, meaning.kind.value) == ("d365", "salesorder", "events")


def test_the_first_read_knows_no_changes_then_only_what_differs() -> None:
    known = KnownStates.for_topics(["state.s4.businesspartner"], catalogue=TOPICS)
    assert known.tracks("s4.businesspartner.events")
    assert not known.tracks("s4.salesorder.events")
    first = known.observe(system="S4", key="1000001", record=_partner("Contoso"), now=T0)
    assert first.changed is None
    renamed = known.observe(
        system="S4", key="1000001", record=_partner("Contoso AG", terms="NT45"), now=T0
    )
    assert renamed.changed == [
        "OrganizationBPName1",
        "to_Customer.to_CustomerSalesArea[0].CustomerPaymentTerms",
    ]
    again = known.observe(
        system="S4", key="1000001", record=_partner("Contoso AG", terms="NT45"), now=T0
    )
    assert again.unchanged


def test_our_own_write_is_no_change_when_its_state_came_first() -> None:
    known = KnownStates()
    known.observe(system="S4", key="1", record=_partner("Contoso"), now=T0)
    phone = "to_BusinessPartnerAddress[0].PhoneNumber"
    later = T0 + dt.timedelta(seconds=1)
    known.apply(system="S4", key="1", fields={phone: "+1 650 555"}, observed_at=later)
    echo = known.observe(system="S4", key="1", record=_partner("Contoso", "+1 650 555"), now=later)
    assert echo.unchanged


def test_an_older_state_does_not_overwrite_what_was_read_since() -> None:
    known = KnownStates()
    known.observe(system="S4", key="1", record=_partner("Renamed"), now=T0)
    stale = T0 - dt.timedelta(seconds=5)
    known.apply(system="S4", key="1", fields={"OrganizationBPName1": "Old"}, observed_at=stale)
    assert known.observe(system="S4", key="1", record=_partner("Renamed"), now=T0).unchanged
    known.forget(system="S4", key="1")
    assert known.observe(system="S4", key="1", record=_partner("Renamed"), now=T0).changed is None
