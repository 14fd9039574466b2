"""Resource paths below a service root: `A_SalesOrder('1')/to_Item`, `$count`, function imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from isthmus.sandbox_kit.odata_date import format_date, parse_iso
from isthmus.sandbox_kit.odata_filter import V2, FilterSyntaxError, Token, tokenize
from isthmus.sandbox_s4.errors import MalformedRequestError, ResourceNotFoundError
from isthmus.sandbox_s4.odata.edm import EntitySet, ServiceModel

_TRAILERS = frozenset({"$count", "$value"})


@dataclass(frozen=True)
class Segment:
    """One path segment: an entity set or navigation name with an optional key."""

    name: str
    key: dict[str, Any] | None


@dataclass
class ResourcePath:
    """A parsed resource path."""

    segments: list[Segment] = field(default_factory=list)
    trailer: str | None = None  # "$count" or "$value"
    kind: str = "resource"  # resource | root | metadata | batch | function


def _literal_value(text: str) -> Any:
    try:
        (token,) = tokenize(text, dialect=V2)
    except FilterSyntaxError as exc:
        raise MalformedRequestError(exc.message) from exc
    return _token_value(token)


def _token_value(token: Token) -> Any:
    if token.kind == "string":
        return token.text[1:-1].replace("''", "'")
    if token.kind == "typed":
        return token.text.partition("'")[2][:-1].replace("''", "'")
    return token.text


def _split_key_pairs(text: str) -> list[tuple[str | None, Any]]:
    pairs: list[tuple[str | None, Any]] = []
    for part in _commas(text):
        name, sep, literal = part.partition("=")
        if sep and not name.strip().startswith("'"):
            pairs.append((name.strip(), _literal_value(literal)))
        else:
            pairs.append((None, _literal_value(part)))
    return pairs


def _commas(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def bind_key(entity_set: EntitySet, text: str) -> dict[str, Any]:
    """Key predicate text -> {key property: wire value}.

    Raises:
        MalformedRequestError: wrong number or names of key properties.
    """
    entity = entity_set.entity_type
    try:
        pairs = _split_key_pairs(text)
    except ValueError as exc:
        raise MalformedRequestError(f"Invalid key predicate ({text})") from exc
    if len(pairs) != len(entity.keys):
        raise MalformedRequestError(f"Invalid key predicate ({text}) for {entity_set.name}")
    key: dict[str, Any] = {}
    for (name, value), default_name in zip(pairs, entity.keys, strict=True):
        prop_name = name or default_name
        if prop_name not in entity.keys:
            raise MalformedRequestError(f"Invalid key property {prop_name} for {entity_set.name}")
        prop = entity.properties[prop_name]
        key[prop_name] = value
        if prop.edm_type == "Edm.DateTime":
            key[prop_name] = _date_key(value)
    return key


def _date_key(value: str) -> str | None:
    return format_date(parse_iso(value))


def _segment(raw: str) -> tuple[str, str | None]:
    text = unquote(raw)
    if "(" in text and text.endswith(")"):
        name, _, rest = text.partition("(")
        return name, rest[:-1]
    return text, None


def parse_path(*, model: ServiceModel, raw_segments: list[str]) -> ResourcePath:
    """Parse the path below the service root.

    Raises:
        ResourceNotFoundError: unknown entity set, navigation or function.
        MalformedRequestError: malformed key predicate.
    """
    segments = [s for s in raw_segments if s]
    if not segments:
        return ResourcePath(kind="root")
    if segments[0] in {"$metadata", "$batch"}:
        return ResourcePath(kind=segments[0][1:])
    path = ResourcePath()
    if segments[-1] in _TRAILERS:
        path.trailer = segments.pop()
    name, key_text = _segment(segments[0])
    if name in model.functions and key_text is None and len(segments) == 1:
        return ResourcePath(segments=[Segment(name, None)], kind="function")
    current = model.entity_sets.get(name)
    if current is None:
        raise ResourceNotFoundError(f"Resource not found for segment '{name}'")
    path.segments.append(Segment(name, bind_key(current, key_text) if key_text else None))
    for raw in segments[1:]:
        name, key_text = _segment(raw)
        nav = current.entity_type.navigations.get(name)
        if nav is None:
            raise ResourceNotFoundError(f"Resource not found for segment '{name}'")
        current = model.entity_sets[nav.target_set]
        path.segments.append(Segment(name, bind_key(current, key_text) if key_text else None))
    return path
