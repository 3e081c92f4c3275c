"""The Durable Functions HTTP API: /runtime/webhooks/durabletask (key-guarded) and the SDK's RPC base URL."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from devhost.client_binding import RPC_PATH, WEBHOOK_PATH, management_urls
from devhost.engine import Engine, UnknownOrchestratorError
from devhost.keys import is_authorized
from devhost.store import Instance

Endpoint = Callable[[Request], Awaitable[Response]]


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def status_json(instance: Instance, show_input: bool = True) -> dict[str, Any]:
    """An instance's status in the shape of the HTTP API's get-status response."""
    return {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.status,
        "input": _loads(instance.input) if show_input else None,
        "customStatus": _loads(instance.custom_status),
        "output": _loads(instance.output),
        "createdTime": instance.created_time,
        "lastUpdatedTime": instance.last_updated_time,
    }


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"Message": message, "ExceptionMessage": message}, status_code=status)


def _not_found(instance_id: str) -> JSONResponse:
    return _error(404, f"No instance with ID '{instance_id}' found.")


async def _json_body(request: Request) -> str | None:
    """The request's JSON payload as JSON text; the SDK client sends it already serialized, as a JSON string."""
    body = (await request.body()).decode("utf-8").strip()
    if not body:
        return None
    value = json.loads(body)
    if isinstance(value, str):
        try:
            json.loads(value)
            return value
        except json.JSONDecodeError:
            return body
    return body


def _list_filter(request: Request) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = []
    args: list[Any] = []
    params = request.query_params
    statuses = [s for s in params.get("runtimeStatus", "").split(",") if s]
    if statuses:
        clauses.append(f"status IN ({', '.join('?' for _ in statuses)})")
        args += statuses
    for name, op in (("createdTimeFrom", ">="), ("createdTimeTo", "<=")):
        if params.get(name):
            clauses.append(f"created_time {op} ?")
            args.append(params[name])
    if params.get("instanceIdPrefix"):
        clauses.append("instance_id LIKE ?")
        args.append(params["instanceIdPrefix"].replace("%", "") + "%")
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


class DurableApi:
    """Handlers for start, status, list, raise event, terminate and purge."""

    def __init__(self, engine: Engine, hub: str, key: str | None) -> None:
        self.engine = engine
        self.hub = hub
        self.key = key
        self.rpc_token = secrets.token_hex(16)

    def routes(self) -> list[Mount]:
        """The webhook routes (function key) and the RPC routes (per-process token in the path)."""
        table = [
            ("/orchestrators/{name}", self.start, ["POST"]),
            ("/orchestrators/{name}/{instance_id}", self.start, ["POST"]),
            ("/instances", self.list_instances, ["GET"]),
            ("/instances/", self.list_instances, ["GET"]),
            ("/instances", self.purge_many, ["DELETE"]),
            ("/instances/", self.purge_many, ["DELETE"]),
            ("/instances/{instance_id}", self.status, ["GET"]),
            ("/instances/{instance_id}", self.purge, ["DELETE"]),
            ("/instances/{instance_id}/raiseEvent/{event}", self.raise_event, ["POST"]),
            ("/instances/{instance_id}/terminate", self.terminate, ["POST"]),
            ("/instances/{instance_id}/suspend", self.suspend, ["POST"]),
            ("/instances/{instance_id}/resume", self.resume, ["POST"]),
        ]
        webhook = [Route(p, self._guard(h, self._key_ok), methods=m) for p, h, m in table]
        rpc = [Route(p, self._guard(h, self._token_ok), methods=m) for p, h, m in table]
        return [Mount(WEBHOOK_PATH, routes=webhook), Mount(RPC_PATH + "/{token}", routes=rpc)]

    def _key_ok(self, request: Request) -> bool:
        return is_authorized(request, self.key)

    def _token_ok(self, request: Request) -> bool:
        return secrets.compare_digest(str(request.path_params.get("token", "")), self.rpc_token)

    def _guard(self, handler: Endpoint, allowed: Callable[[Request], bool]) -> Endpoint:
        async def guarded(request: Request) -> Response:
            if not allowed(request):
                return _error(401, "Unauthorized: a valid function key is required (?code= or x-functions-key).")
            return await handler(request)
        return guarded

    def _instance(self, request: Request) -> Instance | None:
        return self.engine.store.get(request.path_params["instance_id"])

    async def start(self, request: Request) -> Response:
        """POST orchestrators/{name}[/{instanceId}]: start an instance; 202 with management URLs."""
        instance_id = request.path_params.get("instance_id") or uuid.uuid4().hex
        try:
            input_json = await _json_body(request)
            self.engine.start_new(request.path_params["name"], instance_id, input_json)
        except json.JSONDecodeError:
            return _error(400, "The request body must be JSON.")
        except UnknownOrchestratorError as exc:
            return _error(400, str(exc))
        base = f"{request.url.scheme}://{request.url.netloc}{WEBHOOK_PATH}"
        payload = management_urls(base, self.hub, self.key, instance_id)
        return JSONResponse(payload, status_code=202, headers={"Location": payload["statusQueryGetUri"]})

    async def status(self, request: Request) -> Response:
        """GET instances/{instanceId}: 202 while running, 200 once finished, 404 if unknown."""
        instance = self._instance(request)
        if instance is None:
            return _not_found(request.path_params["instance_id"])
        show_input = request.query_params.get("showInput", "true").lower() != "false"
        body = status_json(instance, show_input)
        if request.query_params.get("showHistory", "").lower() == "true":
            body["historyEvents"] = self.engine.store.history(instance.instance_id)
        return JSONResponse(body, status_code=200 if instance.is_terminal else 202)

    async def list_instances(self, request: Request) -> Response:
        """GET instances: every instance matching runtimeStatus/createdTime/instanceIdPrefix filters."""
        where, args = _list_filter(request)
        show_input = request.query_params.get("showInput", "false").lower() == "true"
        return JSONResponse([status_json(i, show_input) for i in self.engine.store.list_instances(where, args)])

    async def raise_event(self, request: Request) -> Response:
        """POST instances/{instanceId}/raiseEvent/{eventName}: 202, 404 unknown, 410 finished."""
        instance = self._instance(request)
        if instance is None:
            return _not_found(request.path_params["instance_id"])
        try:
            data = await _json_body(request)
        except json.JSONDecodeError:
            return _error(400, "Only application/json request content is supported.")
        if not self.engine.raise_event(instance, request.path_params["event"], data):
            return _error(410, f"Instance '{instance.instance_id}' has already finished.")
        return Response(status_code=202)

    async def terminate(self, request: Request) -> Response:
        """POST instances/{instanceId}/terminate?reason=: 202, 404 unknown, 410 finished."""
        instance = self._instance(request)
        if instance is None:
            return _not_found(request.path_params["instance_id"])
        if instance.is_terminal:
            return _error(410, f"Instance '{instance.instance_id}' has already finished.")
        self.engine.terminate(instance, request.query_params.get("reason", ""))
        return Response(status_code=202)

    async def suspend(self, request: Request) -> Response:
        """POST instances/{instanceId}/suspend: 202, 404 unknown, 410 finished."""
        return self._suspend_or_resume(request, suspended=True)

    async def resume(self, request: Request) -> Response:
        """POST instances/{instanceId}/resume: 202, 404 unknown, 410 finished."""
        return self._suspend_or_resume(request, suspended=False)

    def _suspend_or_resume(self, request: Request, suspended: bool) -> Response:
        instance = self._instance(request)
        if instance is None:
            return _not_found(request.path_params["instance_id"])
        if instance.is_terminal:
            return _error(410, f"Instance '{instance.instance_id}' has already finished.")
        self.engine.set_suspended(instance, suspended)
        return Response(status_code=202)

    async def purge(self, request: Request) -> Response:
        """DELETE instances/{instanceId}: 200 with instancesDeleted, 404 if unknown."""
        instance_id = request.path_params["instance_id"]
        if not self.engine.store.purge(instance_id):
            return _not_found(instance_id)
        return JSONResponse({"instancesDeleted": 1})

    async def purge_many(self, request: Request) -> Response:
        """DELETE instances?createdTimeFrom=&runtimeStatus=: purge every match; 404 if none."""
        where, args = _list_filter(request)
        deleted = sum(self.engine.store.purge(i.instance_id) for i in self.engine.store.list_instances(where, args))
        if not deleted:
            return _error(404, "No instances matched.")
        return JSONResponse({"instancesDeleted": deleted})
