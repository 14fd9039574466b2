"""Provisioning: register the catalogue under its subjects with BACKWARD compatibility."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from isthmus.schemas.catalogue import SchemaCatalogue
from isthmus.schemas.registry import RegistryClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    """One schema registered under one subject."""

    subject: str
    schema_name: str
    schema_id: int


def topic_subjects(topics: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """TopicNameStrategy subjects: ``{"<topic>-value": value schema}`` for topics that name one."""
    return {f"{topic}-value": schema for topic, schema in topics if schema}


def register_catalogue(
    *, registry: RegistryClient, catalogue: SchemaCatalogue, subjects: Mapping[str, str]
) -> list[Registration]:
    """Register each subject's schema, then set the subject's compatibility to BACKWARD.

    Registering an unchanged schema again returns its existing id, so this is idempotent. A
    changed schema that is not BACKWARD compatible with the subject's latest version is refused.

    Raises:
        UnknownSchemaNameError: a subject names a schema the catalogue does not hold.
        RegistryUnavailableError: the registry did not answer.
        RegistryRejectedError: the registry refused a schema (e.g. an incompatible change).
    """
    done = []
    for subject, name in sorted(subjects.items()):
        schema = catalogue.get(name)
        schema_id = registry.schema_id(subject=subject, schema=schema, register=True)
        registry.set_backward(subject=subject)
        done.append(Registration(subject=subject, schema_name=name, schema_id=schema_id))
        logger.info("registered %s as %s (id %s)", name, subject, schema_id)
    return done
