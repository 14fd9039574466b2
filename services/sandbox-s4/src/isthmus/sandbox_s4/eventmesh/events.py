"""Business events: thin CloudEvents routed from topics to queues, the Event Mesh way."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from isthmus.sandbox_s4.store import Store

QUEUE = "queue"  # document kind: {"name", "topics": [...]}


@dataclass
class PendingEvents:
    """Events raised by one request; published only after its transaction commits."""

    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def emit(self, *, object_type: str, operation: str, data: dict[str, Any]) -> None:
        """Remember one event (`SalesOrder`, `Created`, `{"SalesOrder": "1"}`)."""
        self.events.append((object_type, operation, data))


def event_type(*, object_type: str, operation: str) -> str:
    """`sap.s4.beh.salesorder.v1.SalesOrder.Created.v1`."""
    return f"sap.s4.beh.{object_type.lower()}.v1.{object_type}.{operation}.v1"


def topic_of(*, namespace: str, type_: str) -> str:
    """Event Mesh topic of an event type: `<namespace>/ce/sap/s4/beh/.../Created/v1`."""
    return f"{namespace}/ce/{type_.replace('.', '/')}"


def topic_matches(*, pattern: str, topic: str) -> bool:
    """Topic subscription match; `*` stands for exactly one segment."""
    wanted, actual = pattern.split("/"), topic.split("/")
    return len(wanted) == len(actual) and all(
        w in {"*", a} for w, a in zip(wanted, actual, strict=True)
    )


def cloud_event(*, type_: str, source: str, data: dict[str, Any]) -> dict[str, Any]:
    """A CloudEvents 1.0 structured-mode body shaped like S/4HANA's."""
    return {
        "type": type_,
        "specversion": "1.0",
        "source": source,
        "id": str(uuid.uuid4()),
        "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "datacontenttype": "application/json",
        "data": data,
    }


class EventBus:
    """Publishes events to topics; queues subscribed to a topic receive a copy."""

    def __init__(self, *, store: Store, namespace: str, source: str) -> None:
        self.store = store
        self.namespace = namespace
        self.source = source
        self.enabled = True
        self._listeners: list[Callable[[], None]] = []

    def on_message(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever a message lands in any queue (wakes the pusher)."""
        self._listeners.append(listener)

    def publish(self, *, events: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Turn raised business events into CloudEvents on their topics."""
        if not self.enabled:
            return
        for object_type, operation, data in events:
            type_ = event_type(object_type=object_type, operation=operation)
            body = cloud_event(type_=type_, source=self.source, data=data)
            self.publish_raw(
                topic=topic_of(namespace=self.namespace, type_=type_),
                data=json.dumps(body),
                content_type="application/json",
            )

    def publish_raw(self, *, topic: str, data: str, content_type: str) -> int:
        """Deliver a message to every queue subscribed to ``topic``; return how many got it."""
        delivered = 0
        for name, queue in self.store.documents(kind=QUEUE).items():
            if any(topic_matches(pattern=p, topic=topic) for p in queue.get("topics", [])):
                self.store.enqueue(queue=name, data=data, content_type=content_type)
                delivered += 1
        if delivered:
            self.notify()
        return delivered

    def enqueue(self, *, queue: str, data: str, content_type: str) -> None:
        """Put a message straight into one queue."""
        self.store.enqueue(queue=queue, data=data, content_type=content_type)
        self.notify()

    def notify(self) -> None:
        """Wake the listeners."""
        for listener in self._listeners:
            listener()
