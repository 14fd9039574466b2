"""The LookupPort contract, shared by the in-memory port and every real adapter's tests."""

from __future__ import annotations

from collections.abc import Mapping

from isthmus.mapping.lookups import LookupPort

UNKNOWN_ID = "isthmus-contract-unknown-id"


def lookup_port_problems(port: LookupPort, *, known: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Ways in which `port` breaks the LookupPort contract (empty when it keeps it).

    `known` holds `{entity: {d365_id: s4_id}}` pairs the caller stored in the port beforehand.
    The contract: every stored pair resolves in both directions, an unknown id of a known or an
    unknown entity answers None (never a guess), and ids of one entity do not leak into another.
    """
    problems: list[str] = []
    for entity, pairs in known.items():
        for d365, s4 in pairs.items():
            if (found := port.s4_id(entity=entity, d365_id=d365)) != s4:
                problems.append(f"s4_id({entity}, {d365}) gave {found!r}, expected {s4!r}")
            if (back := port.d365_id(entity=entity, s4_id=s4)) != d365:
                problems.append(f"d365_id({entity}, {s4}) gave {back!r}, expected {d365!r}")
            other = f"{entity}-other"
            if other not in known and port.s4_id(entity=other, d365_id=d365) is not None:
                problems.append(f"id {d365} of {entity} also resolves for entity {other}")
        for answer in (
            port.s4_id(entity=entity, d365_id=UNKNOWN_ID),
            port.d365_id(entity=entity, s4_id=UNKNOWN_ID),
        ):
            if answer is not None:
                problems.append(f"an unknown id of {entity} resolved to {answer!r} instead of None")
    return problems
