"""POST /api/deploy: start the deploy orchestration (one at a time per app)."""

import asyncio
import uuid

import azure.durable_functions as df
import azure.functions as func

from http_api.preflight import deploy_problems
from http_api.responses import BadRequest, bad_request, json_response, parse_body
from orchestrations import deploy
from payloads.requests import DeployRequest
from payloads.steps import DeployJob
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()

ACTIVE = [df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending]


def instance_prefix(app_name: str) -> str:
    """Deploy instance ids start with the app's name, so a running deploy of the app can be found."""
    return f"deploy-{app_name}-"


@bp.route(route="deploy", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def start_deploy(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the body and what it names, start the deploy, return 202 with the status URLs (409 if one runs)."""
    try:
        request = parse_body(req, DeployRequest)
    except BadRequest as error:
        return bad_request(error)
    problems = await asyncio.to_thread(deploy_problems, request, get_target(request.target, get_settings()))
    if problems:
        return bad_request(BadRequest.naming("cannot deploy", problems))
    prefix = instance_prefix(request.app_name)
    running = await client.get_status_by(runtime_status=ACTIVE, instance_id_prefix=prefix)
    if running:
        busy = running[0].instance_id
        message = f"a deploy of app {request.app_name!r} is already running ({busy}); poll /api/status/{busy}"
        return json_response({"error": {"message": message}, "instanceId": busy}, status_code=409)
    job = DeployJob(request=request, poll_seconds=get_settings().readiness_poll_seconds)
    instance_id = await client.start_new(
        deploy.NAME, instance_id=prefix + uuid.uuid4().hex, client_input=job.model_dump(mode="json")
    )
    return client.create_check_status_response(req, instance_id)
