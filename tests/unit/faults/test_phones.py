"""The phone stream's ledgers: numbers parsed back to (account, seq), superseded updates."""

from __future__ import annotations

import pytest

from tests.faults.ledger import Acked, Applied
from tests.faults.phones import _superseded, _target_phone, event_id, phone_number

pytestmark = pytest.mark.unit


def _applied(account: str, seq: int, at: float, *, effective: bool = True) -> Applied:
    return Applied(event_id(account, seq), account, seq, effective, str(at), at)


def test_a_number_names_its_account_and_sequence_and_fits_s4() -> None:
    assert phone_number(3, 42) == "+1 555 03 000042"
    assert len(phone_number(99, 999_999)) <= 30  # A_AddressPhoneNumber.PhoneNumber


def test_the_phone_is_read_from_the_target_an_update_posted() -> None:
    context = {
        "InputParameters": [
            {
                "key": "Target",
                "value": {"Attributes": [{"key": "telephone1", "value": "+1 555 00 000001"}]},
            }
        ]
    }
    assert _target_phone(context) == "+1 555 00 000001"
    assert _target_phone({"InputParameters": [{"key": "Target", "value": {}}]}) is None
    assert _target_phone(None) is None


def test_an_update_is_superseded_only_by_a_later_effective_number_of_its_account() -> None:
    acked = [Acked(event_id("A", n), "A", n) for n in (1, 2, 3)] + [Acked(event_id("B", 1), "B", 1)]
    applied = [_applied("A", 2, 1.0), _applied("A", 2, 2.0, effective=False)]
    assert _superseded(acked, applied) == {event_id("A", 1)}
    assert _superseded(acked, [_applied("A", 3, 1.0, effective=False)]) == set()
