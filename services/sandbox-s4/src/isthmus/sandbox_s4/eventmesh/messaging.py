"""Event-Mesh-like REST API: queues, topic subscriptions, publish, consume, webhooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from isthmus.sandbox_s4.errors import AuthenticationError
from isthmus.sandbox_s4.eventmesh.events import QUEUE
from isthmus.sandbox_s4.eventmesh.webhooks import SUBSCRIPTION

if TYPE_CHECKING:
    from isthmus.sandbox_s4.app import Sandbox

REST = "/messagingrest/v1"
MANAGEMENT = "/hub/rest/api/v1/management/messaging"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"code": status, "message": message}, status)


async def _message(request: Request) -> tuple[str, str]:
    """A published message's body as text and its content type (JSON when unnamed)."""
    content_type = request.headers.get("content-type", "application/json")
    return (await request.body()).decode(), content_type


def _queue_view(sandbox: Sandbox, name: str, queue: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "accessType": "NON_EXCLUSIVE",
        "messageCount": sandbox.store.queue_depth(queue=name),
        "maxQueueSizeInBytes": 1073741824,
        "maxMessageSizeInBytes": 1000000,
        "topics": queue.get("topics", []),
    }


def _subscription_view(subscription: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in subscription.items() if k != "pushConfig"}
    push = dict(subscription.get("pushConfig", {}))
    if "securitySchema" in push:
        push["securitySchema"] = {"type": push["securitySchema"].get("type", "")}
    view["pushConfig"] = push
    return view


def router(sandbox: Sandbox) -> APIRouter:  # noqa: C901, PLR0915 - one closure per endpoint
    """The messaging REST routes (authenticated like the OData APIs)."""

    def authenticated(request: Request) -> None:
        try:
            sandbox.auth.authenticate(authorization=request.headers.get("authorization"))
        except AuthenticationError as exc:
            raise HTTPException(401, "Unauthorized") from exc

    routes = APIRouter(include_in_schema=False, dependencies=[Depends(authenticated)])
    store = sandbox.store

    @routes.put(MANAGEMENT + "/queues/{queue}")
    async def put_queue(request: Request, queue: str) -> Response:
        name = unquote(queue)
        existing = store.documents(kind=QUEUE).get(name)
        data = existing or {"topics": []}
        store.put_document(kind=QUEUE, name=name, data=data)
        return JSONResponse(_queue_view(sandbox, name, data), 200 if existing else 201)

    @routes.get(MANAGEMENT + "/queues")
    async def list_queues(request: Request) -> Response:
        return JSONResponse(
            [_queue_view(sandbox, n, q) for n, q in store.documents(kind=QUEUE).items()]
        )

    @routes.get(MANAGEMENT + "/queues/{queue}")
    async def get_queue(request: Request, queue: str) -> Response:
        data = store.documents(kind=QUEUE).get(unquote(queue))
        if data is None:
            return _error(404, f"Queue {unquote(queue)} not found")
        return JSONResponse(_queue_view(sandbox, unquote(queue), data))

    @routes.delete(MANAGEMENT + "/queues/{queue}")
    async def delete_queue(request: Request, queue: str) -> Response:
        found = store.delete_document(kind=QUEUE, name=unquote(queue))
        return Response(status_code=204 if found else 404)

    @routes.put(MANAGEMENT + "/queues/{queue}/subscriptions/{topic:path}")
    async def subscribe(request: Request, queue: str, topic: str) -> Response:
        data = store.documents(kind=QUEUE).get(unquote(queue))
        if data is None:
            return _error(404, f"Queue {unquote(queue)} not found")
        topic_name = unquote(topic)
        if topic_name not in data["topics"]:
            data["topics"].append(topic_name)
        store.put_document(kind=QUEUE, name=unquote(queue), data=data)
        return JSONResponse({"queueName": unquote(queue), "topicPattern": topic_name}, 201)

    @routes.get(MANAGEMENT + "/queues/{queue}/subscriptions")
    async def queue_subscriptions(request: Request, queue: str) -> Response:
        data = store.documents(kind=QUEUE).get(unquote(queue))
        if data is None:
            return _error(404, f"Queue {unquote(queue)} not found")
        return JSONResponse(
            [{"queueName": unquote(queue), "topicPattern": t} for t in data["topics"]]
        )

    @routes.delete(MANAGEMENT + "/queues/{queue}/subscriptions/{topic:path}")
    async def unsubscribe(request: Request, queue: str, topic: str) -> Response:
        data = store.documents(kind=QUEUE).get(unquote(queue)) or {"topics": []}
        if unquote(topic) not in data["topics"]:
            return Response(status_code=404)
        data["topics"].remove(unquote(topic))
        store.put_document(kind=QUEUE, name=unquote(queue), data=data)
        return Response(status_code=204)

    @routes.post(REST + "/topics/{topic:path}/messages")
    async def publish_topic(request: Request, topic: str) -> Response:
        data, content_type = await _message(request)
        sandbox.bus.publish_raw(topic=unquote(topic), data=data, content_type=content_type)
        return Response(status_code=204)

    @routes.post(REST + "/queues/{queue}/messages")
    async def publish_queue(request: Request, queue: str) -> Response:
        if unquote(queue) not in store.documents(kind=QUEUE):
            return _error(404, f"Queue {unquote(queue)} not found")
        data, content_type = await _message(request)
        sandbox.bus.enqueue(queue=unquote(queue), data=data, content_type=content_type)
        return Response(status_code=204)

    @routes.post(REST + "/queues/{queue}/messages/consumption")
    async def consume(request: Request, queue: str) -> Response:
        qos = request.headers.get("x-qos", "0")
        message = store.dequeue(queue=unquote(queue), lock=qos == "1")
        if message is None:
            return Response(status_code=204)
        message_id, data, content_type = message
        return Response(
            data, 200, {"x-message-id": str(message_id), "x-qos": qos}, media_type=content_type
        )

    @routes.post(REST + "/queues/{queue}/messages/{message_id}/acknowledgement")
    async def acknowledge(request: Request, queue: str, message_id: str) -> Response:
        found = message_id.isdigit() and store.acknowledge(
            queue=unquote(queue), message_id=int(message_id)
        )
        return Response(status_code=200 if found else 404)

    @routes.post(REST + "/subscriptions")
    async def create_subscription(request: Request) -> Response:
        body = await request.json()
        name, address = str(body.get("name", "")), str(body.get("address", ""))
        endpoint = (body.get("pushConfig") or {}).get("endpoint")
        if not name or not address.startswith("queue:") or not endpoint:
            return _error(400, "name, address 'queue:<name>' and pushConfig.endpoint are required")
        if name in store.documents(kind=SUBSCRIPTION):
            return _error(409, f"Subscription {name} already exists")
        exempt = bool(body["pushConfig"].get("exemptHandshake", False))
        subscription = {
            "name": name,
            "address": address,
            "qos": int(body.get("qos", 0)),
            "pushConfig": body["pushConfig"],
            "subscriptionState": "ACTIVE" if exempt else "PAUSED",
            "handshakeStatus": "EXEMPTED" if exempt else "PENDING",
        }
        store.put_document(kind=SUBSCRIPTION, name=name, data=subscription)
        if not exempt and sandbox.pusher is not None:
            subscription = await sandbox.pusher.handshake(name=name)
        return JSONResponse(_subscription_view(subscription), 201)

    @routes.get(REST + "/subscriptions")
    async def list_subscriptions(request: Request) -> Response:
        return JSONResponse(
            [_subscription_view(s) for s in store.documents(kind=SUBSCRIPTION).values()]
        )

    @routes.get(REST + "/subscriptions/{name}")
    async def get_subscription(request: Request, name: str) -> Response:
        found = store.documents(kind=SUBSCRIPTION).get(name)
        return (
            JSONResponse(_subscription_view(found))
            if found
            else _error(404, f"Subscription {name} not found")
        )

    @routes.delete(REST + "/subscriptions/{name}")
    async def delete_subscription(request: Request, name: str) -> Response:
        return Response(
            status_code=204 if store.delete_document(kind=SUBSCRIPTION, name=name) else 404
        )

    @routes.post(REST + "/subscriptions/{name}/handshake")
    async def handshake(request: Request, name: str) -> Response:
        if name not in store.documents(kind=SUBSCRIPTION) or sandbox.pusher is None:
            return _error(404, f"Subscription {name} not found")
        return JSONResponse(_subscription_view(await sandbox.pusher.handshake(name=name)))

    @routes.put(REST + "/subscriptions/{name}/state")
    async def state(request: Request, name: str) -> Response:
        found = store.documents(kind=SUBSCRIPTION).get(name)
        action = (await request.json()).get("action")
        if found is None or action not in {"pause", "resume"}:
            return _error(404 if found is None else 400, "unknown subscription or action")
        found["subscriptionState"] = "PAUSED" if action == "pause" else "ACTIVE"
        store.put_document(kind=SUBSCRIPTION, name=name, data=found)
        if sandbox.pusher is not None and action == "resume":
            sandbox.bus.notify()
        return Response(status_code=200)

    return routes
