"""The topic catalogue: ``deploy/topics.yaml`` parsed and validated into typed entries."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from isthmus.kafka.errors import CatalogueError

_DELAY_UNITS_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000}
_NAME_CHARS = re.compile(r"^[a-z0-9][a-z0-9._-]{0,248}$")
_DELAY = re.compile(r"^(\d+)(ms|s|m|h)$")
_SYSTEMS = ("d365", "s4")


class TopicKind(StrEnum):
    """What a topic carries, derived from its name (docs/architecture.md, Topics)."""

    EVENTS = "events"
    COMMANDS = "commands"
    RESULTS = "results"
    STATE = "state"
    RETRY = "retry"
    DLQ = "dlq"
    PARKED = "parked"
    CHECKPOINTS = "checkpoints"
    XREF = "xref"
    DRIFT = "drift"
    AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class TopicName:
    """What a catalogue topic's name means: its kind and, by kind, system and entity
    (events, commands, results, state) or consumer group (retry, dlq, parked, checkpoints)."""

    kind: TopicKind
    system: str | None = None
    entity: str | None = None
    group: str | None = None


class CleanupPolicy(StrEnum):
    """Kafka ``cleanup.policy`` values the catalogue accepts."""

    DELETE = "delete"
    COMPACT = "compact"
    COMPACT_DELETE = "compact,delete"

    @property
    def compacts(self) -> bool:
        """True when the broker keeps only the latest record per key."""
        return self is not CleanupPolicy.DELETE


class TopicSpec(BaseModel):
    """One topic as the catalogue declares it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    partitions: int = Field(ge=1, le=10_000)
    replication_factor: int = Field(ge=1, le=16)
    cleanup_policy: CleanupPolicy
    retention_ms: int = Field(ge=-1)
    key: str | None = Field(default=None, description="What the record key is (business key).")
    value_schema: str | None = Field(
        default=None,
        description="Full Avro name of the value; absent on retry/DLQ topics, which keep the "
        "source record's bytes unchanged.",
    )
    description: str = ""
    config: dict[str, str] = Field(default_factory=dict)

    @field_validator("cleanup_policy", mode="before")
    @classmethod
    def _known_policy(cls, value: object) -> object:
        allowed = ", ".join(policy.value for policy in CleanupPolicy)
        if value not in {policy.value for policy in CleanupPolicy}:
            raise ValueError(f"cleanup_policy {value!r} is not one of: {allowed}")
        return value

    @property
    def kind(self) -> TopicKind:
        """The topic's kind, read from its validated name."""
        return topic_kind(self.name)

    @property
    def meaning(self) -> TopicName:
        """Kind, system, entity and group of the topic, read from its validated name."""
        return parse_topic_name(self.name)

    @property
    def retry_delay_ms(self) -> int | None:
        """For ``<group>.retry.<delay>`` topics, the delay in milliseconds; else None."""
        if self.kind is not TopicKind.RETRY:
            return None
        match = _DELAY.match(self.name.rsplit(".", 1)[1])
        if match is None:  # topic_kind() already rejected such names
            raise CatalogueError(f"retry topic {self.name!r} has no valid delay suffix")
        return int(match.group(1)) * _DELAY_UNITS_MS[match.group(2)]

    def topic_config(self, *, replication_factor: int) -> dict[str, str]:
        """Broker-side topic configuration, with ``min.insync.replicas`` capped at the RF."""
        config = dict(self.config)
        config["cleanup.policy"] = self.cleanup_policy.value
        config["retention.ms"] = str(self.retention_ms)
        if "min.insync.replicas" in config:
            wanted = int(config["min.insync.replicas"])
            config["min.insync.replicas"] = str(max(1, min(wanted, replication_factor)))
        return config


def topic_kind(name: str) -> TopicKind:
    """Classify a topic name by the naming rules of docs/architecture.md.

    Raises:
        ValueError: the name follows none of the rules.
    """
    return parse_topic_name(name).kind


def parse_topic_name(name: str) -> TopicName:  # noqa: PLR0911 - one return per naming rule
    """What a name of the catalogue means (the one reader of topic names; docs/architecture.md).

    Raises:
        ValueError: the name follows none of the rules.
    """
    if not _NAME_CHARS.match(name):
        raise ValueError("name must be lower-case letters, digits, '.', '_' or '-' (max 249)")
    match name.split("."):
        case ["xref", "ids"]:
            return TopicName(TopicKind.XREF)
        case ["reconcile", "drift"]:
            return TopicName(TopicKind.DRIFT)
        case ["audit", "events"]:
            return TopicName(TopicKind.AUDIT)
        case [system, entity, ("events" | "commands" | "results") as kind] if system in _SYSTEMS:
            return TopicName(TopicKind(kind), system=system, entity=entity)
        case ["state", system, entity] if system in _SYSTEMS:
            return TopicName(TopicKind.STATE, system=system, entity=entity)
        case [group, "retry", delay]:
            if not _DELAY.match(delay):
                raise ValueError(f"retry delay {delay!r} must look like 500ms, 10s, 5m or 1h")
            return TopicName(TopicKind.RETRY, group=group)
        case [group, ("dlq" | "parked" | "checkpoints") as kind]:
            return TopicName(TopicKind(kind), group=group)
    raise ValueError(
        "name must be <system>.<entity>.events|commands|results, state.<system>.<entity>, "
        "<group>.retry.<delay>, <group>.dlq|parked|checkpoints, xref.ids, reconcile.drift "
        f"or audit.events (systems: {', '.join(_SYSTEMS)})"
    )


class Catalogue(BaseModel):
    """Every topic Isthmus uses, in file order."""

    model_config = ConfigDict(frozen=True)

    source: str
    topics: tuple[TopicSpec, ...]
    _resolved: dict[str, tuple[str, TopicSpec]] = PrivateAttr(default_factory=dict)
    _states: dict[str, str | None] = PrivateAttr(default_factory=dict)

    def __iter__(self) -> Iterator[TopicSpec]:  # type: ignore[override]  # iterate topics, not fields
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def get(self, name: str) -> TopicSpec:
        """Return the entry called ``name``.

        Raises:
            KeyError: no such topic in the catalogue.
        """
        for spec in self.topics:
            if spec.name == name:
                return spec
        raise KeyError(f"{name!r} is not in the topic catalogue {self.source}")

    def of_kind(self, kind: TopicKind) -> list[TopicSpec]:
        """All entries of one kind, in file order."""
        return [spec for spec in self.topics if spec.kind is kind]

    def resolve(self, topic: str) -> tuple[str, TopicSpec]:
        """The entry a topic in use stands for, and the name prefix it carries
        (``""`` in production; deployments and tests may prefix every name).

        Raises:
            KeyError: no entry of the catalogue ends ``topic``.
        """
        known = self._resolved.get(topic)
        if known is not None:
            return known
        best: TopicSpec | None = None
        for spec in self.topics:
            if topic.endswith(spec.name) and (best is None or len(spec.name) > len(best.name)):
                best = spec
        if best is None:
            raise KeyError(f"{topic!r} is not in the topic catalogue {self.source}")
        found = self._resolved[topic] = (topic[: len(topic) - len(best.name)], best)
        return found

    def meaning(self, topic: str) -> TopicName:
        """Kind, system, entity and group of a topic in use (prefixed or not).

        Raises:
            KeyError: the topic is not in the catalogue.
        """
        return self.resolve(topic)[1].meaning

    def entity_of(self, topic: str) -> str | None:
        """The entity of a topic in use (``salesorder`` of ``d365.salesorder.events``); None
        for a topic without one or not in the catalogue."""
        try:
            return self.meaning(topic).entity
        except KeyError:
            return None

    def state_topic(self, topic: str) -> str | None:
        """The compacted ``state.<system>.<entity>`` topic of an events, commands or results
        topic, with the same prefix; None when the catalogue has none (or ``topic`` is unknown).
        Answers are kept: the ingress asks for every event.
        """
        if topic not in self._states:
            self._states[topic] = self._find_state_topic(topic)
        return self._states[topic]

    def _find_state_topic(self, topic: str) -> str | None:
        try:
            prefix, spec = self.resolve(topic)
        except KeyError:
            return None
        meaning = spec.meaning
        if meaning.kind not in (TopicKind.EVENTS, TopicKind.COMMANDS, TopicKind.RESULTS):
            return None
        for other in self.topics:
            state = other.meaning
            if state.kind is TopicKind.STATE and (state.system, state.entity) == (
                meaning.system,
                meaning.entity,
            ):
                return prefix + other.name
        return None
        meaning = spec.meaning
        for other in self.topics:
            state = other.meaning
            if (
                state.kind is TopicKind.STATE
                and meaning.kind in (TopicKind.EVENTS, TopicKind.COMMANDS, TopicKind.RESULTS)
                and (state.system, state.entity) == (meaning.system, meaning.entity)
            ):
                return prefix + other.name
        return None


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate a catalogue file.

    Raises:
        CatalogueError: the file is missing, is not YAML, or an entry is invalid; the message
            names the file, the entry's index and name, and every problem found.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read the topic catalogue: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc
    return parse_catalogue(document, source=str(path))


def parse_catalogue(document: object, *, source: str) -> Catalogue:
    """Validate an already-parsed catalogue document (see ``load_catalogue``).

    Raises:
        CatalogueError: the document or an entry is invalid.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("topics"), list):
        raise CatalogueError(f"{source}: expected a mapping with a 'topics' list")
    unknown = set(document) - {"version", "defaults", "topics"}
    if unknown:
        raise CatalogueError(f"{source}: unknown top-level keys: {', '.join(sorted(unknown))}")
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise CatalogueError(f"{source}: 'defaults' must be a mapping")
    problems: list[str] = []
    topics: list[TopicSpec] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(document["topics"]):
        label = _label(index, raw)
        spec, errors = _parse_entry(raw, defaults)
        problems.extend(f"{label}: {error}" for error in errors)
        if spec is None:
            continue
        if spec.name in seen:
            problems.append(f"{label}: duplicate name, first declared at topics[{seen[spec.name]}]")
            continue
        seen[spec.name] = index
        topics.append(spec)
    if problems:
        raise CatalogueError(f"{source}: invalid topic catalogue:\n  - " + "\n  - ".join(problems))
    return Catalogue(source=source, topics=tuple(topics))


def _label(index: int, raw: object) -> str:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return f"topics[{index}] {name!r}" if name else f"topics[{index}]"


def _parse_entry(raw: object, defaults: Mapping[str, Any]) -> tuple[TopicSpec | None, list[str]]:
    if not isinstance(raw, Mapping):
        return None, ["entry must be a mapping"]
    merged = {**{k: v for k, v in defaults.items() if k != "config"}, **raw}
    merged["config"] = {
        str(k): str(v) for k, v in {**defaults.get("config", {}), **raw.get("config", {})}.items()
    }
    try:
        spec = TopicSpec.model_validate(merged)
    except ValidationError as exc:
        return None, [_describe(error) for error in exc.errors()]
    errors: list[str] = []
    try:
        kind = topic_kind(spec.name)
    except ValueError as exc:
        return None, [str(exc)]
    if spec.cleanup_policy.compacts and not spec.key:
        errors.append("a compacted topic needs a 'key' (compaction keeps the latest per key)")
    carries_source = kind in {TopicKind.RETRY, TopicKind.DLQ}
    if carries_source and spec.value_schema:
        errors.append("retry and DLQ topics keep the source bytes; drop 'value_schema'")
    if not carries_source and not spec.value_schema:
        errors.append(
            "'value_schema' is required (full Avro name, e.g. io.isthmus.audit.AuditEvent)"
        )
    return (None if errors else spec), errors


def _describe(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
