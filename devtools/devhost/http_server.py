"""The Starlette app: admin status, the durable HTTP API, and the app's HTTP triggers."""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import azure.functions as func
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from devtools.devhost.app_loader import HttpFunction
from devtools.devhost.client_binding import starter_json
from devtools.devhost.config import HostConfig
from devtools.devhost.durable_api import DurableApi
from devtools.devhost.engine import Engine
from devtools.devhost.invocation_context import InvocationContext, log_executed
from devtools.devhost.keys import is_authorized
from devtools.devhost.route_table import RouteTable

log = logging.getLogger("devhost")


def _to_response(result: Any) -> Response:
    if isinstance(result, func.HttpResponse):
        skip = ("content-length", "content-type")
        headers = {k: v for k, v in result.headers.items() if k.lower() not in skip}
        content_type = result.headers.get("content-type") or result.mimetype
        return Response(result.get_body(), status_code=result.status_code, headers=headers, media_type=content_type)
    if result is None:
        return Response(status_code=204)
    if isinstance(result, str | bytes):
        return Response(result, media_type="text/plain")
    return JSONResponse(result)


async def _http_request(request: Request, route_params: dict[str, str]) -> func.HttpRequest:
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=dict(request.headers),
        params=dict(request.query_params),
        route_params=route_params,
        body=await request.body(),
    )


class TriggerDispatcher:
    """Serves the app's HTTP-triggered functions under the route prefix."""

    def __init__(self, config: HostConfig, functions: list[HttpFunction], starter: Callable[[], str]) -> None:
        self.config = config
        self.table = RouteTable(functions)
        self.starter = starter

    async def handle(self, request: Request) -> Response:
        found = self.table.match(request.method, request.path_params.get("path", ""))
        if found is None:
            return JSONResponse({"error": "No function matches this route."}, status_code=404)
        if found is False:
            return JSONResponse({"error": "Method not allowed for this route."}, status_code=405)
        assert not isinstance(found, bool)
        function, route_params = found
        if not is_authorized(request, self.config.function_key, function.auth_level):
            return JSONResponse({"error": "Unauthorized: a valid function key is required."}, status_code=401)
        return await self._invoke(function, await _http_request(request, route_params))

    async def _invoke(self, function: HttpFunction, req: func.HttpRequest) -> Response:
        kwargs: dict[str, Any] = {function.request_param: req}
        invocation_id = str(uuid.uuid4())
        for name in function.client_params:
            kwargs[name] = self.starter()
        if function.has_context_param:
            kwargs["context"] = InvocationContext(invocation_id, function.name, str(self.config.app_dir))
        started = time.monotonic()
        succeeded = False  # stays False when the function raises or is cancelled (a stop past the grace period)
        try:
            if _is_async(function.user_function):
                result = await function.user_function(**kwargs)
            else:
                result = await run_in_threadpool(function.user_function, **kwargs)
            response = _to_response(result)
            succeeded = True
            return response
        except Exception:
            log.exception("Function '%s' raised", function.name)
            return JSONResponse({"error": f"Function '{function.name}' failed."}, status_code=500)
        finally:
            log_executed(function.name, succeeded, invocation_id, started)


def _is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function)


def build_app(config: HostConfig, engine: Engine, grace: Callable[[], None]) -> Starlette:
    """Assemble the ASGI app; the engine starts with the app and stops on shutdown."""
    durable = DurableApi(engine, config.hub_name, config.function_key)

    def starter() -> str:
        return starter_json(config.port, config.hub_name, config.function_key, durable.rpc_token)

    dispatcher = TriggerDispatcher(config, engine.index.http, starter)

    async def host_status(_: Request) -> Response:
        return JSONResponse({"state": "Running", "version": "devhost", "processUptime": 0})

    routes: list[BaseRoute] = [Route("/admin/host/status", host_status, methods=["GET"]), *durable.routes()]
    prefix = f"/{config.route_prefix}" if config.route_prefix else ""
    routes.append(Route(prefix + "/{path:path}", dispatcher.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE",
                                                                       "HEAD", "OPTIONS"]))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        engine.start()
        yield
        grace()

    return Starlette(routes=routes, lifespan=lifespan)

