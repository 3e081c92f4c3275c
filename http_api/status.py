"""GET /api/status/{instanceId}: where an orchestration stands."""

from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.constants import DATETIME_STRING_FORMAT

from http_api.responses import error_response, json_response
from payloads.requests import quoted

bp = df.Blueprint()


def iso_time(moment: datetime | None) -> str | None:
    """A time as the Durable HTTP API writes it: ISO 8601 in UTC, e.g. 2026-11-25T20:46:00.710319Z."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime(DATETIME_STRING_FORMAT)


@bp.route(route="status/{instanceId}", methods=["GET"])
@bp.durable_client_input(client_name="client")
async def get_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Runtime status, custom status (step, progress), output or error; 404 for an unknown instance."""
    instance_id = req.route_params["instanceId"]
    status = await client.get_status(instance_id)
    if not status:
        return error_response(404, f"no orchestration with instance id {quoted(instance_id)}")
    failed = status.runtime_status == df.OrchestrationRuntimeStatus.Failed
    body = {
        "instanceId": status.instance_id,
        "name": status.name,
        "runtimeStatus": status.runtime_status.value if status.runtime_status else None,
        "customStatus": status.custom_status,
        "output": None if failed else status.output,
        "error": status.output if failed else None,
        "createdTime": iso_time(status.created_time),
        "lastUpdatedTime": iso_time(status.last_updated_time),
    }
    return json_response(body)
