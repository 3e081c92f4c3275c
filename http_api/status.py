"""GET /api/status/{instanceId}: where an orchestration stands."""

import azure.durable_functions as df
import azure.functions as func

from http_api.responses import error_response, json_response

bp = df.Blueprint()


@bp.route(route="status/{instanceId}", methods=["GET"])
@bp.durable_client_input(client_name="client")
async def get_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Runtime status, custom status (step, progress), output or error; 404 for an unknown instance."""
    instance_id = req.route_params["instanceId"]
    status = await client.get_status(instance_id)
    if not status:
        return error_response(404, f"no orchestration with instance id {instance_id!r}")
    runtime = status.runtime_status.value if status.runtime_status else None
    body = {
        "instanceId": status.instance_id,
        "name": status.name,
        "runtimeStatus": runtime,
        "customStatus": status.custom_status,
        "output": status.output if runtime != "Failed" else None,
        "error": status.output if runtime == "Failed" else None,
        "createdTime": status.created_time,
        "lastUpdatedTime": status.last_updated_time,
    }
    return json_response(body)
