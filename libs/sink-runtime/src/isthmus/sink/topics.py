"""Topic names of a sink (naming of docs/architecture.md, optional prefix; pure).

What a topic means (its entity, its value schema) is read from the topic catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from isthmus.kafka.catalogue import Catalogue, TopicKind


@dataclass(frozen=True)
class SinkTopics:
    """``<system>.<entity>.commands|results``, ``state.<system>.<entity>``, xref and audit."""

    system: str
    catalogue: Catalogue
    prefix: str = ""
    xref_name: str = "xref.ids"
    audit_name: str = "audit.events"

    def commands(self, entity: str) -> str:
        """The command topic of ``entity``."""
        return f"{self.prefix}{self.system}.{entity}.commands"

    def results(self, entity: str) -> str:
        """The result topic of ``entity``."""
        return f"{self.prefix}{self.system}.{entity}.results"

    def state(self, entity: str) -> str:
        """The compacted state topic of ``entity``."""
        return f"{self.prefix}state.{self.system}.{entity}"

    @property
    def xref(self) -> str:
        """The compacted cross-reference topic."""
        return f"{self.prefix}{self.xref_name}"

    @property
    def audit(self) -> str:
        """The audit topic."""
        return f"{self.prefix}{self.audit_name}"

    def entity_of(self, topic: str) -> str:
        """The entity of a command topic (``salesorder`` of ``s4.salesorder.commands``).

        Raises:
            ValueError: ``topic`` is not one of this sink's command topics.
        """
        try:
            prefix, spec = self.catalogue.resolve(topic)
        except KeyError:
            prefix, spec = "", None
        meaning = spec.meaning if spec is not None else None
        if (
            meaning is None
            or prefix != self.prefix
            or meaning.kind is not TopicKind.COMMANDS
            or meaning.system != self.system
            or meaning.entity is None
        ):
            raise ValueError(f"not a {self.system} command topic: {topic}")
        return meaning.entity

    def output_schemas(self) -> set[str]:
        """The value schemas of every topic the sink may write: results and state of its
        system, the cross references and the audit."""
        schemas = {self.schema_of(self.xref), self.schema_of(self.audit)}
        for spec in self.catalogue:
            meaning = spec.meaning
            written = meaning.kind in (TopicKind.RESULTS, TopicKind.STATE)
            if written and meaning.system == self.system and spec.value_schema:
                schemas.add(spec.value_schema)
        return schemas

    def schema_of(self, topic: str) -> str:
        """The value schema of a topic the sink writes (from the catalogue).

        Raises:
            ValueError: the catalogue has no schema for ``topic``.
        """
        try:
            schema = self.catalogue.resolve(topic)[1].value_schema
        except KeyError:
            schema = None
        if schema is None:
            raise ValueError(f"no schema for output topic {topic}")
        return schema
