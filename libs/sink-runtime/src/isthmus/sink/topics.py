"""Topic names of a sink (naming of docs/architecture.md, optional prefix; pure)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SinkTopics:
    """``<system>.<entity>.commands|results``, ``state.<system>.<entity>``, xref and audit."""

    system: str
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
        head = f"{self.prefix}{self.system}."
        if not (topic.startswith(head) and topic.endswith(".commands")):
            raise ValueError(f"not a {self.system} command topic: {topic}")
        return topic[len(head) : -len(".commands")]
