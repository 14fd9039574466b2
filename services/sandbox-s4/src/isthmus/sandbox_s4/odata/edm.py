"""The parts of an OData V2 EDMX the sandbox needs: sets, keys, property types, navigation."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

_EDMX = "{http://schemas.microsoft.com/ado/2007/06/edmx}"
_EDM = "{http://schemas.microsoft.com/ado/2008/09/edm}"
_SAP = "{http://www.sap.com/Protocols/SAPData}"
_M = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"


@dataclass(frozen=True)
class Property:
    """One structural property of an entity type."""

    name: str
    edm_type: str
    nullable: bool = True
    max_length: int | None = None
    scale: int = 0
    creatable: bool = True
    updatable: bool = True
    concurrency: bool = False


@dataclass(frozen=True)
class Navigation:
    """A navigation property resolved to its target entity set and join columns."""

    name: str
    target_set: str
    many: bool
    # source property name -> target property name
    join: tuple[tuple[str, str], ...]


@dataclass
class EntityType:
    """An entity type: keys, properties in document order, navigation properties."""

    name: str
    keys: tuple[str, ...]
    properties: dict[str, Property]
    navigations: dict[str, Navigation] = field(default_factory=dict)

    @property
    def etag_property(self) -> Property | None:
        """The property with ConcurrencyMode="Fixed", if any."""
        return next((p for p in self.properties.values() if p.concurrency), None)


@dataclass(frozen=True)
class EntitySet:
    """An entity set with its SAP capability annotations."""

    name: str
    entity_type: EntityType
    creatable: bool
    updatable: bool
    deletable: bool


@dataclass(frozen=True)
class FunctionImport:
    """A function import: HTTP method, parameters (name -> Edm type) and return type."""

    name: str
    http_method: str
    parameters: dict[str, str]
    return_type: str | None
    entity_set: str | None


@dataclass(frozen=True)
class ServiceModel:
    """One OData service: its namespace, entity sets, function imports and raw `$metadata`."""

    name: str
    entity_sets: dict[str, EntitySet]
    functions: dict[str, FunctionImport]
    metadata_xml: bytes

    def type_name(self, entity_set: EntitySet) -> str:
        """The qualified type name written into `__metadata.type`."""
        return f"{self.name}.{entity_set.entity_type.name}"


def _flag(element: ET.Element, name: str) -> bool:
    return element.get(f"{_SAP}{name}", "true") != "false"


def _property(element: ET.Element) -> Property:
    max_length = element.get("MaxLength")
    return Property(
        name=element.get("Name", ""),
        edm_type=element.get("Type", "Edm.String"),
        nullable=element.get("Nullable", "true") != "false",
        max_length=int(max_length) if max_length and max_length.isdigit() else None,
        scale=int(element.get("Scale", "0") or 0),
        creatable=_flag(element, "creatable"),
        updatable=_flag(element, "updatable"),
        concurrency=element.get("ConcurrencyMode") == "Fixed",
    )


def _entity_types(schema: ET.Element) -> dict[str, EntityType]:
    types: dict[str, EntityType] = {}
    for element in schema.findall(f"{_EDM}EntityType"):
        keys = tuple(ref.get("Name", "") for ref in element.findall(f"{_EDM}Key/{_EDM}PropertyRef"))
        properties = {p.name: p for p in map(_property, element.findall(f"{_EDM}Property"))}
        types[element.get("Name", "")] = EntityType(element.get("Name", ""), keys, properties)
    return types


def _local(qualified: str) -> str:
    return qualified.rsplit(".", 1)[-1]


def _join(
    source: EntityType, target: EntityType, many: bool, constraint: list[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """Join columns: the referential constraint when the metadata has one, else shared names."""
    if constraint:
        return tuple(constraint)
    if many:
        return tuple((k, k) for k in source.keys if k in target.properties)
    if all(k in source.properties for k in target.keys):
        return tuple((k, k) for k in target.keys)
    return tuple((k, k) for k in source.keys if k in target.properties)


def _constraint(association: ET.Element, from_role: str) -> list[tuple[str, str]]:
    ref = association.find(f"{_EDM}ReferentialConstraint")
    if ref is None:
        return []
    principal = ref.find(f"{_EDM}Principal")
    dependent = ref.find(f"{_EDM}Dependent")
    if principal is None or dependent is None:
        return []
    p_names = [r.get("Name", "") for r in principal.findall(f"{_EDM}PropertyRef")]
    d_names = [r.get("Name", "") for r in dependent.findall(f"{_EDM}PropertyRef")]
    if principal.get("Role") == from_role:
        return list(zip(p_names, d_names, strict=True))
    return list(zip(d_names, p_names, strict=True))


def _resolve_navigations(schema: ET.Element, types: dict[str, EntityType]) -> None:
    associations = {a.get("Name", ""): a for a in schema.findall(f"{_EDM}Association")}
    association_sets = {
        _local(s.get("Association", "")): {
            end.get("Role", ""): end.get("EntitySet", "") for end in s.findall(f"{_EDM}End")
        }
        for s in schema.iter(f"{_EDM}AssociationSet")
    }
    for element in schema.findall(f"{_EDM}EntityType"):
        source = types[element.get("Name", "")]
        for nav in element.findall(f"{_EDM}NavigationProperty"):
            assoc_name = _local(nav.get("Relationship", ""))
            association = associations.get(assoc_name)
            to_role, from_role = nav.get("ToRole", ""), nav.get("FromRole", "")
            target_set = association_sets.get(assoc_name, {}).get(to_role)
            if association is None or not target_set:
                continue
            end = next(e for e in association.findall(f"{_EDM}End") if e.get("Role") == to_role)
            target = types[_local(end.get("Type", ""))]
            many = end.get("Multiplicity") == "*"
            join = _join(source, target, many, _constraint(association, from_role))
            source.navigations[nav.get("Name", "")] = Navigation(
                nav.get("Name", ""), target_set, many, join
            )


def _function(element: ET.Element) -> FunctionImport:
    return FunctionImport(
        name=element.get("Name", ""),
        http_method=element.get(f"{_M}HttpMethod", "GET"),
        parameters={
            p.get("Name", ""): p.get("Type", "Edm.String")
            for p in element.findall(f"{_EDM}Parameter")
        },
        return_type=element.get("ReturnType"),
        entity_set=element.get("EntitySet"),
    )


def load_service(*, path: Path) -> ServiceModel:
    """Parse one EDMX file.

    Raises:
        ValueError: the file has no OData V2 schema.
    """
    raw = path.read_bytes()
    root = ET.fromstring(raw)  # noqa: S314 - packaged, trusted metadata
    schema = root.find(f"{_EDMX}DataServices/{_EDM}Schema")
    if schema is None:
        raise ValueError(f"{path.name}: no OData V2 schema")
    types = _entity_types(schema)
    _resolve_navigations(schema, types)
    sets: dict[str, EntitySet] = {}
    functions: dict[str, FunctionImport] = {}
    for container in schema.findall(f"{_EDM}EntityContainer"):
        for element in container.findall(f"{_EDM}EntitySet"):
            sets[element.get("Name", "")] = EntitySet(
                name=element.get("Name", ""),
                entity_type=types[_local(element.get("EntityType", ""))],
                creatable=_flag(element, "creatable"),
                updatable=_flag(element, "updatable"),
                deletable=_flag(element, "deletable"),
            )
        functions.update(
            {f.name: f for f in map(_function, container.findall(f"{_EDM}FunctionImport"))}
        )
    return ServiceModel(schema.get("Namespace", ""), sets, functions, raw)
