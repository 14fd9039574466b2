"""The in-memory LookupPort keeps the shared contract that real adapters are tested against too."""

from __future__ import annotations

from isthmus.mapping import InMemoryLookups
from isthmus.mapping.contract import lookup_port_problems

PAIRS = {
    "account": {"00000000-0000-0000-0000-000000000020": "17100001"},
    "salesorder": {"6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10": "4711", "aa": "4712"},
}


def test_in_memory_port_keeps_the_contract() -> None:
    assert lookup_port_problems(InMemoryLookups(PAIRS), known=PAIRS) == []


def test_the_contract_notices_a_port_that_guesses() -> None:
    class Guessing:
        def s4_id(self, *, entity: str, d365_id: str) -> str | None:
            return "17100001"

        def d365_id(self, *, entity: str, s4_id: str) -> str | None:
            return None

    problems = lookup_port_problems(Guessing(), known={"account": PAIRS["account"]})
    assert any("unknown id" in problem for problem in problems)
    assert any("d365_id(account" in problem for problem in problems)
    assert any("also resolves" in problem for problem in problems)
