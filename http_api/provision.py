"""POST /api/provision: start the provision orchestration."""

import azure.durable_functions as df
import azure.functions as func

from http_api.responses import BadRequest, parse_body, refused
from orchestrations import provision
from payloads.requests import ProvisionRequest
from payloads.steps import ProvisionJob

bp = df.Blueprint()


@bp.route(route="provision", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def start_provision(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the body, start provisioning, return 202 with the status URLs."""
    try:
        request = parse_body(req, ProvisionRequest)
    except BadRequest as error:
        return refused(error)
    job = ProvisionJob(target=request.target, app_name=request.app_name, port=request.port)
    instance_id = await client.start_new(provision.NAME, client_input=job.model_dump(mode="json"))
    return client.create_check_status_response(req, instance_id)
