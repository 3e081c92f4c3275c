"""POST /api/deploy: start the app's deploy orchestration, one at a time per app.

Each app has one deploy instance id, `deploy_<app>`. The Durable backend creates an instance atomically and, with
host.json's `overridableExistingInstanceStates: NonRunningStates`, refuses an id whose instance is still live
(it replaces a finished one). That refusal, not the status check before it, is what lets only one of two deploys
arriving at the same instant start; the other is answered 409 naming the live instance. (Coalescing a newer
request into the live deploy, by an external event, plugs in where `start_singleton` reports the id is taken.)
"""

import asyncio
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from http_api.preflight import deploy_problems
from http_api.responses import BadRequest, error_response, parse_body, refused
from orchestrations import deploy
from payloads.requests import DeployRequest
from payloads.steps import DeployJob
from service_settings import get_settings

bp = df.Blueprint()

Status = df.OrchestrationRuntimeStatus
REPLACEABLE = frozenset({Status.Completed, Status.Failed, Status.Terminated, Status.Canceled})
"""The extension's NonRunningStates: an instance id in one of these may be started again."""


def deploy_instance_id(app_name: str) -> str:
    """The one deploy instance id of `app_name` (app names hold no '_', so no app's id is another's)."""
    return f"deploy_{app_name}"


def deploy_job(request: DeployRequest, poll_seconds: int) -> DeployJob:
    """The orchestration input for `request`: its own fields, so request and history can change apart."""
    return DeployJob(
        target=request.target, app_name=request.app_name, base_model=request.base_model,
        adapter_source=request.adapter_source, version=request.version,
        readiness_timeout_s=request.readiness_timeout_s, poll_seconds=poll_seconds,
    )


async def is_live(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    """Whether an instance with this id exists and is not finished (so starting the id again is refused)."""
    status = await client.get_status(instance_id)
    return bool(status) and status.runtime_status is not None and status.runtime_status not in REPLACEABLE


async def start_singleton(client: df.DurableOrchestrationClient, name: str, instance_id: str, job: Any) -> bool:
    """Start orchestrator `name` as `instance_id`; False when a live instance holds the id (nothing started)."""
    if await is_live(client, instance_id):  # the common case, answered without asking to create
        return False
    try:
        await client.start_new(name, instance_id=instance_id, client_input=job)
    except Exception:  # the SDK raises a bare Exception for every refusal: ask what holds the id
        if await is_live(client, instance_id):
            return False  # another start won the atomic create
        raise
    return True


@bp.route(route="deploy", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def start_deploy(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the body and what it names, start the deploy, return 202 with the status URLs (409 if one runs)."""
    try:
        request = parse_body(req, DeployRequest)
    except BadRequest as error:
        return refused(error)
    problems = await asyncio.to_thread(deploy_problems, request, get_settings())
    if problems:
        return refused(BadRequest.naming("cannot deploy", problems))
    instance_id = deploy_instance_id(request.app_name)
    job = deploy_job(request, get_settings().readiness_poll_seconds).model_dump(mode="json")
    if not await start_singleton(client, deploy.NAME, instance_id, job):
        message = (f"a deploy of app {request.app_name!r} is already running ({instance_id}); "
                   f"poll /api/status/{instance_id} and deploy again when it has finished")
        return error_response(409, message, instanceId=instance_id)
    return client.create_check_status_response(req, instance_id)
