"""GET /api/status/{instanceId}: where an orchestration (or a deploy request) stands.

A deploy request's id is its deploy's instance id (or its `deploy_superseded` marker's). A request the app's
deployer holds behind a running deploy has no instance yet: it is answered from the deployer's published state,
runtimeStatus "Pending", customStatus saying what it waits for.
"""

from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.constants import DATETIME_STRING_FORMAT

from http_api.deploy_queue import find_request
from http_api.responses import error_response, json_response
from payloads.requests import quoted

bp = df.Blueprint()


def iso_time(moment: datetime | None) -> str | None:
    """A time as the Durable HTTP API writes it: ISO 8601 in UTC, e.g. 2026-11-25T20:46:00.710319Z."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime(DATETIME_STRING_FORMAT)


def instance_body(status: Any) -> dict[str, Any]:
    """The answer for an existing instance: the Durable status, the error separate from the output."""
    failed = status.runtime_status == df.OrchestrationRuntimeStatus.Failed
    return {
        "instanceId": status.instance_id,
        "name": status.name,
        "runtimeStatus": status.runtime_status.value if status.runtime_status else None,
        "customStatus": status.custom_status,
        "output": None if failed else status.output,
        "error": status.output if failed else None,
        "createdTime": iso_time(status.created_time),
        "lastUpdatedTime": iso_time(status.last_updated_time),
    }


async def waiting_request_body(client: df.DurableOrchestrationClient, request_id: str) -> dict[str, Any] | None:
    """The answer for a request its app's deployer holds (queued, or starting), or None when it holds none."""
    known = await find_request(client, request_id)
    if known is None or known.instance is not None:
        return None
    app_name = request_id.split("_")[1]
    if known.queued_behind is not None:
        message = (f"queued behind deploy {known.queued_behind}: when it finishes, the newest queued request of "
                   f"app {app_name} deploys and older ones are superseded by it")
        custom: dict[str, Any] = {"step": "queued", "message": message, "queued_behind": known.queued_behind}
    else:
        custom = {"step": "starting", "message": f"accepted by the deployer of app {app_name}; starting"}
    if known.trigger is not None:
        custom["trigger"] = known.trigger.model_dump(mode="json")
    entry_time = iso_time(known.requested_at)
    return {"instanceId": request_id, "name": "deploy", "runtimeStatus": "Pending", "customStatus": custom,
            "output": None, "error": None, "createdTime": entry_time, "lastUpdatedTime": entry_time}


@bp.route(route="status/{instanceId}", methods=["GET"])
@bp.durable_client_input(client_name="client")
async def get_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Runtime status, custom status (step, progress), output or error; 404 for an unknown instance."""
    instance_id = req.route_params["instanceId"]
    status = await client.get_status(instance_id)
    if status and status.runtime_status is not None:
        return json_response(instance_body(status))
    waiting = await waiting_request_body(client, instance_id) if instance_id.startswith("deploy_") else None
    if waiting is not None:
        return json_response(waiting)
    return error_response(404, f"no orchestration with instance id {quoted(instance_id)}")
