"""POST /api/deploy: start the deploy orchestration."""

import azure.durable_functions as df
import azure.functions as func

from http_api.responses import BadRequest, bad_request, parse_body
from orchestrations import deploy
from payloads.requests import DeployRequest
from payloads.steps import DeployJob
from service_settings import get_settings

bp = df.Blueprint()


@bp.route(route="deploy", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def start_deploy(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the body, start the deploy, return 202 with the status URLs."""
    try:
        request = parse_body(req, DeployRequest)
    except BadRequest as error:
        return bad_request(error)
    job = DeployJob(request=request, poll_seconds=get_settings().readiness_poll_seconds)
    instance_id = await client.start_new(deploy.NAME, client_input=job.model_dump(mode="json"))
    return client.create_check_status_response(req, instance_id)
