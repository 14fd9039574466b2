"""Field names to concepts: split any naming style into words, then map words to domain concepts.

`accountnumber`, `AccountNumber`, `account_number` all become (customer, id); `SoldToParty` and
`Customer` become (customer, id) too, because a bare entity name in SAP is that entity's number.
"""

from __future__ import annotations

import re
from functools import lru_cache


def words_of(text: str) -> frozenset[str]:
    """The whitespace-separated words of a text, as a set."""
    return frozenset(text.split())


# Words of the CRM/ERP domain, used to split lower-case run-together names (`requestdeliveryby`).
WORDS = words_of(
    """account address amount base bill billing block business by category city code company
    composite condition confirmation contact cost country created currency customer date day
    default delivery description discount distribution division document due email extended
    first full gross group house id invoice iso item key language last line lines manual
    material measure method modified name net number of on order organization owner partner
    party payment per phone plant postal price pricing product province purchase quantity
    reference region request requested sales schedule search shipping ship shipped sold state
    status street submit tax telephone term terms text time to total type unit uom value
    version weight zip transaction creation change detail details fulfilled stock inventory
    storage location batch gross posting fiscal year journal entry goods movement actual planned
    header legal mobile fax given family surname quote opportunity hand"""
)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOP = frozenset(
    {"to", "of", "the", "per", "and", "or", "a", "by", "on", "in", "isthmus", "value", "code"}
)
# Phrases first (longest match), then single words; each becomes one concept.
_PHRASES: dict[tuple[str, ...], str] = {
    ("sold", "to", "party"): "customer",
    ("business", "partner"): "customer",
    ("purchase", "order"): "po",
    ("price", "per", "unit"): "price",
    ("unit", "of", "measure"): "unit",
    ("state", "or", "province"): "region",
    ("iso", "currency", "code"): "currency",
    ("transaction", "currency"): "currency",
    ("postal", "code"): "postal",
    ("line", "item", "number"): "itemno",
    ("sales", "order"): "order",
    ("email", "address"): "email",
    ("phone", "number"): "phone",
    ("shipping", "method"): "shipcondition",
    ("shipping", "condition"): "shipcondition",
    ("telephone", "number"): "phone",
}
_SYNONYMS: dict[str, str] = {
    "account": "customer",
    "client": "customer",
    "debtor": "customer",
    "payer": "customer",
    "material": "product",
    "article": "product",
    "qty": "quantity",
    "matl": "product",
    "stk": "stock",
    "wrhs": "stock",
    "hand": "stock",
    "uom": "unit",
    "measure": "unit",
    "requested": "request",
    "shipping": "delivery",
    "ship": "delivery",
    "shipment": "delivery",
    "shipped": "delivery",
    "no": "id",
    "nr": "id",
    "number": "id",
    "key": "id",
    "telephone": "phone",
    "mobile": "phone",
    "fax": "phone",
    "zip": "postal",
    "postcode": "postal",
    "state": "region",
    "province": "region",
    "surname": "last",
    "family": "last",
    "given": "first",
    "vat": "tax",
    "text": "description",
    "value": "amount",
    "created": "creation",
    "modified": "change",
    "changed": "change",
}
ENTITIES = frozenset({"customer", "product", "order", "invoice", "po", "document", "plant"})
_DATE_SUFFIXES = frozenset({"on", "by", "date"})


@lru_cache(maxsize=4096)
def words(name: str) -> tuple[str, ...]:
    """Lower-case words of a field name in any style (camelCase, snake_case, runtogether)."""
    result: list[str] = []
    for part in _CAMEL.findall(name.replace("_", " ").replace(".", " ")):
        lowered = part.lower()
        result.extend(
            _segment(lowered) if lowered.isalpha() and lowered not in WORDS else [lowered]
        )
    return tuple(result)


def _segment(run: str) -> list[str]:
    """Split a run-together word into dictionary words (fewest pieces); unsplittable stays whole."""
    best: list[tuple[int, int, list[str]] | None] = [None] * (len(run) + 1)
    best[0] = (0, 0, [])
    for end in range(1, len(run) + 1):
        for start in range(end):
            prior = best[start]
            if prior is None:
                continue
            piece = run[start:end]
            unknown = 0 if piece in WORDS else len(piece)
            candidate = (prior[0] + unknown, prior[1] + 1, [*prior[2], piece])
            current = best[end]
            if current is None or candidate[:2] < current[:2]:
                best[end] = candidate
    final = best[len(run)]
    return final[2] if final is not None and final[0] == 0 else [run]


@lru_cache(maxsize=4096)
def concepts(name: str) -> frozenset[str]:
    """The set of domain concepts a field name stands for."""
    found = sequence(name)
    if len(found) == 1 and found[0] in ENTITIES:
        return frozenset((*found, "id"))
    return frozenset(found)


def head(name: str) -> str | None:
    """The concept of the last word: what the field is (`RequestedQuantityUnit` is a unit)."""
    found = sequence(name)
    return found[-1] if found else None


@lru_cache(maxsize=4096)
def sequence(name: str) -> tuple[str, ...]:
    """The concepts of a name in word order."""
    tokens = list(words(name))
    found: list[str] = []
    index = 0
    while index < len(tokens):
        phrase = next(
            (
                p
                for p in sorted(_PHRASES, key=len, reverse=True)
                if tuple(tokens[index : index + len(p)]) == p
            ),
            None,
        )
        if phrase is not None:
            found.append(_PHRASES[phrase])
            index += len(phrase)
            continue
        token = tokens[index]
        last = index == len(tokens) - 1
        if last and token in _DATE_SUFFIXES and index > 0:
            found.append("date")
        elif token not in _STOP and not token.isdigit():
            found.append(_SYNONYMS.get(token, token))
        index += 1
    return tuple(found)
