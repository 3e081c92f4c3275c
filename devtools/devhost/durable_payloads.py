"""Payloads of the Durable HTTP API: status JSON, error replies, request bodies and list filters."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from devtools.devhost.records import Instance


def loads_or_none(text: str | None) -> Any:
    """Parse stored JSON text; None stays None."""
    return None if text is None else json.loads(text)


def status_json(instance: Instance, show_input: bool = True) -> dict[str, Any]:
    """An instance's status in the shape of the HTTP API's get-status response."""
    return {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.status,
        "input": loads_or_none(instance.input) if show_input else None,
        "customStatus": loads_or_none(instance.custom_status),
        "output": loads_or_none(instance.output),
        "createdTime": instance.created_time,
        "lastUpdatedTime": instance.last_updated_time,
    }


def error_response(status: int, message: str) -> JSONResponse:
    """An error reply with the Message/ExceptionMessage fields the SDK reads."""
    return JSONResponse({"Message": message, "ExceptionMessage": message}, status_code=status)


def not_found(instance_id: str) -> JSONResponse:
    """404 for an unknown instance."""
    return error_response(404, f"No instance with ID '{instance_id}' found.")


async def read_json_body(request: Request) -> str | None:
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


def list_filter(request: Request) -> tuple[str, tuple[Any, ...]]:
    """SQL filter for runtimeStatus, createdTimeFrom/To and instanceIdPrefix query parameters."""
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
