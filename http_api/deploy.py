"""POST /api/deploy: start the deploy orchestration (one at a time per app)."""

import asyncio
import uuid

import azure.durable_functions as df
import azure.functions as func

from http_api.preflight import deploy_problems
from http_api.responses import BadRequest, bad_request, error_response, parse_body
from orchestrations import deploy
from payloads.requests import DeployRequest
from payloads.steps import DeployJob
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()

ACTIVE = [df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending]


def instance_prefix(app_name: str) -> str:
    """The start of every deploy instance id of `app_name`, and of no other app's (app names hold no '_')."""
    return f"deploy_{app_name}_"


def deploy_job(request: DeployRequest, poll_seconds: int) -> DeployJob:
    """The orchestration input for `request`: its own fields, so request and history can change apart."""
    return DeployJob(
        target=request.target, app_name=request.app_name, base_model=request.base_model,
        adapter_source=request.adapter_source, version=request.version,
        readiness_timeout_s=request.readiness_timeout_s, poll_seconds=poll_seconds,
    )


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
        return error_response(409, message, instanceId=busy)
    job = deploy_job(request, get_settings().readiness_poll_seconds)
    instance_id = await client.start_new(
        deploy.NAME, instance_id=prefix + uuid.uuid4().hex, client_input=job.model_dump(mode="json")
    )
    return client.create_check_status_response(req, instance_id)
