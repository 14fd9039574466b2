"""A CSDL ``$metadata`` document generated from the table catalogue."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from isthmus.sandbox_d365.odata.schema import Catalogue, Kind, Table

NAMESPACE = "Microsoft.Dynamics.CRM"
_EDM = {
    Kind.GUID: "Edm.Guid",
    Kind.STRING: "Edm.String",
    Kind.INT: "Edm.Int32",
    Kind.DECIMAL: "Edm.Decimal",
    Kind.MONEY: "Edm.Decimal",
    Kind.BOOL: "Edm.Boolean",
    Kind.CHOICE: "Edm.Int32",
    Kind.DATETIME: "Edm.DateTimeOffset",
    Kind.DATE: "Edm.Date",
}


def _entity_type(table: Table, catalogue: Catalogue) -> str:
    parts = [f'<EntityType Name="{table.logical}">']
    parts.append(f'<Key><PropertyRef Name="{table.key}"/></Key>')
    for name in table.readable():
        kind = table.kind_of(name) or Kind.STRING
        parts.append(f'<Property Name="{name}" Type="{_EDM[kind]}"/>')
    for lookup in table.lookups.values():
        for nav, target in lookup.targets.items():
            parts.append(
                f'<NavigationProperty Name="{nav}" Type="{NAMESPACE}.{target}">'
                f'<ReferentialConstraint Property="{lookup.value_column}" '
                f'ReferencedProperty="{catalogue.table(target).key}"/></NavigationProperty>'
            )
    for collection in table.collections.values():
        parts.append(
            f'<NavigationProperty Name="{collection.name}" '
            f'Type="Collection({NAMESPACE}.{collection.table})"/>'
        )
    parts.append("</EntityType>")
    return "".join(parts)


def metadata_document(catalogue: Catalogue) -> str:
    """The ``$metadata`` XML: entity types, keys, navigation properties and entity sets."""
    types = "".join(_entity_type(t, catalogue) for t in catalogue.by_logical.values())
    sets = "".join(
        f"<EntitySet Name={quoteattr(t.entity_set)} "
        f"EntityType={quoteattr(f'{NAMESPACE}.{t.logical}')}/>"
        for t in catalogue.by_logical.values()
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
        f'<edmx:DataServices><Schema Namespace="{NAMESPACE}" Alias="mscrm" '
        'xmlns="http://docs.oasis-open.org/odata/ns/edm">'
        f'{types}<EntityContainer Name="System">{sets}</EntityContainer>'
        "</Schema></edmx:DataServices></edmx:Edmx>"
    )
