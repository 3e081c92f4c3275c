"""The Durable Functions HTTP API: /runtime/webhooks/durabletask (key-guarded) and the SDK's RPC base URL."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from devtools.devhost.client_binding import RPC_PATH, WEBHOOK_PATH, management_urls
from devtools.devhost.durable_payloads import error_response, instance_query, not_found, read_json_body, status_json
from devtools.devhost.engine import Engine, UnknownOrchestratorError
from devtools.devhost.keys import is_authorized
from devtools.devhost.store import Instance, InstanceExistsError

Endpoint = Callable[[Request], Awaitable[Response]]


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
                return error_response(401, "Unauthorized: a valid function key is required (?code= or x-functions-key)")
            return await handler(request)
        return guarded

    def _instance(self, request: Request) -> Instance | None:
        return self.engine.store.get(request.path_params["instance_id"])

    async def start(self, request: Request) -> Response:
        """POST orchestrators/{name}[/{instanceId}]: start an instance; 202 with its URLs, 409 if the id is live."""
        instance_id = request.path_params.get("instance_id") or uuid.uuid4().hex
        try:
            input_json = await read_json_body(request)
            self.engine.start_new(request.path_params["name"], instance_id, input_json)
        except json.JSONDecodeError:
            return error_response(400, "The request body must be JSON.")
        except UnknownOrchestratorError as exc:
            return error_response(400, str(exc))
        except InstanceExistsError as exc:
            return error_response(409, str(exc))
        base = f"{request.url.scheme}://{request.url.netloc}{WEBHOOK_PATH}"
        payload = management_urls(base, self.hub, self.key, instance_id)
        return JSONResponse(payload, status_code=202, headers={"Location": payload["statusQueryGetUri"]})

    async def status(self, request: Request) -> Response:
        """GET instances/{instanceId}: 202 while running, 200 once finished, 404 if unknown."""
        instance = self._instance(request)
        if instance is None:
            return not_found(request.path_params["instance_id"])
        show_input = request.query_params.get("showInput", "true").lower() != "false"
        body = status_json(instance, show_input)
        if request.query_params.get("showHistory", "").lower() == "true":
            body["historyEvents"] = self.engine.store.history(instance.instance_id)
        return JSONResponse(body, status_code=200 if instance.is_terminal else 202)

    def _matching(self, request: Request) -> list[Instance] | Response:
        """Instances matching the runtimeStatus/createdTime/instanceIdPrefix filters, or a 400 naming a bad one."""
        try:
            query = instance_query(request)
        except ValueError as exc:
            return error_response(400, str(exc))
        return self.engine.store.list_instances(query)

    async def list_instances(self, request: Request) -> Response:
        """GET instances: every instance matching runtimeStatus/createdTime/instanceIdPrefix filters."""
        instances = self._matching(request)
        if isinstance(instances, Response):
            return instances
        show_input = request.query_params.get("showInput", "false").lower() == "true"
        return JSONResponse([status_json(i, show_input) for i in instances])

    async def raise_event(self, request: Request) -> Response:
        """POST instances/{instanceId}/raiseEvent/{eventName}: 202, 404 unknown, 410 finished."""
        instance = self._instance(request)
        if instance is None:
            return not_found(request.path_params["instance_id"])
        try:
            data = await read_json_body(request)
        except json.JSONDecodeError:
            return error_response(400, "Only application/json request content is supported.")
        if not self.engine.raise_event(instance, request.path_params["event"], data):
            return error_response(410, f"Instance '{instance.instance_id}' has already finished.")
        return Response(status_code=202)

    async def terminate(self, request: Request) -> Response:
        """POST instances/{instanceId}/terminate?reason=: 202, 404 unknown, 410 finished."""
        instance = self._instance(request)
        if instance is None:
            return not_found(request.path_params["instance_id"])
        if instance.is_terminal:
            return error_response(410, f"Instance '{instance.instance_id}' has already finished.")
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
            return not_found(request.path_params["instance_id"])
        if instance.is_terminal:
            return error_response(410, f"Instance '{instance.instance_id}' has already finished.")
        self.engine.set_suspended(instance, suspended)
        return Response(status_code=202)

    async def purge(self, request: Request) -> Response:
        """DELETE instances/{instanceId}: 200 with instancesDeleted, 404 if unknown."""
        instance_id = request.path_params["instance_id"]
        if not self.engine.store.purge(instance_id):
            return not_found(instance_id)
        return JSONResponse({"instancesDeleted": 1})

    async def purge_many(self, request: Request) -> Response:
        """DELETE instances?createdTimeFrom=&runtimeStatus=: purge every match; 404 if none."""
        instances = self._matching(request)
        if isinstance(instances, Response):
            return instances
        deleted = sum(self.engine.store.purge(i.instance_id) for i in instances)
        if not deleted:
            return error_response(404, "No instances matched.")
        return JSONResponse({"instancesDeleted": deleted})
