"""Payloads of the Durable HTTP API: status JSON, error replies, request bodies and list filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse

from devtools.devhost.records import Instance, InstanceQuery


def loads_or_none(text: str | None) -> Any:
    """Parse stored JSON text; None stays None."""
    return None if text is None else json.loads(text)


def status_json(instance: Instance, show_input: bool = True) -> dict[str, Any]:
    """An instance's status in the shape of the HTTP API's get-status response."""
    return {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.status.value,
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


def _status(text: str) -> Status:
    try:
        return Status(text)
    except ValueError:
        known = ", ".join(status.value for status in Status)
        raise ValueError(f"runtimeStatus '{text}' is not a runtime status; use one or more of: {known}.") from None


def _time(params: QueryParams, name: str) -> datetime | None:
    text = params.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} '{text}' is not an ISO 8601 time such as 2026-01-31T12:00:00Z.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def instance_query(request: Request) -> InstanceQuery:
    """The runtimeStatus, createdTimeFrom/To and instanceIdPrefix query parameters; ValueError says which is bad."""
    params = request.query_params
    return InstanceQuery(
        statuses=frozenset(_status(s) for s in params.get("runtimeStatus", "").split(",") if s),
        created_from=_time(params, "createdTimeFrom"),
        created_to=_time(params, "createdTimeTo"),
        instance_id_prefix=params.get("instanceIdPrefix", ""),
    )
