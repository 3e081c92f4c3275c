"""POST /api/provision: start the provision orchestration on the local target, or on Azure (an ARM deployment).

On Azure the whole deployment is planned here, from infra/provision/inference.parameters.json, the app settings and
the request, and a plan the template would refuse is a 400 naming each field before anything starts. Each app has
one Azure provision instance id, `provision_<app>` (a second provision of an app while one runs is a 409), and one
ARM deployment name, so provisioning again with the same inputs changes nothing.
"""

import asyncio

import azure.durable_functions as df
import azure.functions as func

from http_api.responses import BadRequest, error_response, parse_body, refused
from orchestrations import provision
from payloads.requests import AZURE_ONLY_FIELDS, ProvisionRequest
from payloads.steps import ProvisionJob
from service_settings import get_settings
from targets.azure.arm.parameters import PlanProblems, provisioning_plan
from targets.local import local_target

bp = df.Blueprint()

Status = df.OrchestrationRuntimeStatus
REPLACEABLE = frozenset({Status.Completed, Status.Failed, Status.Terminated, Status.Canceled})
"""The extension's NonRunningStates (host.json): an instance id in one of these may be started again."""


def port_problem(request: ProvisionRequest) -> str | None:
    """Why the local app cannot be given the requested port (another app has it, or a process holds it)."""
    assert request.port is not None
    return local_target(get_settings()).apps.port_problem(request.app_name, request.port)


def provision_instance_id(app_name: str) -> str:
    """The one Azure provision instance id of `app_name` (app names hold no '_')."""
    return f"provision_{app_name}"


async def is_live(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    """Whether an instance with this id exists and has not finished (so starting the id again is refused)."""
    status = await client.get_status(instance_id)
    return bool(status) and status.runtime_status is not None and status.runtime_status not in REPLACEABLE


async def start_once(client: df.DurableOrchestrationClient, instance_id: str, job: ProvisionJob) -> bool:
    """Start the provision as `instance_id`; False when a live instance holds the id (nothing started)."""
    if await is_live(client, instance_id):
        return False
    try:
        await client.start_new(provision.NAME, instance_id=instance_id, client_input=job.model_dump(mode="json"))
    except Exception:  # the SDK raises a bare Exception for every refusal: ask what holds the id
        if await is_live(client, instance_id):
            return False
        raise
    return True


def azure_job(request: ProvisionRequest) -> ProvisionJob:
    """The orchestration input for a provision on Azure; BadRequest naming each field that stops it."""
    if request.port is not None:
        raise BadRequest.naming("cannot provision on azure", [
            {"field": "port", "message": "only used with target 'local' (a container app listens on 7860)"}])
    try:
        plan = provisioning_plan(request, get_settings())
    except PlanProblems as problems:
        raise BadRequest.naming("cannot provision on azure", problems.fields) from None
    return ProvisionJob(target="azure", app_name=request.app_name, azure=plan)


async def start_on_azure(req: func.HttpRequest, client: df.DurableOrchestrationClient,
                         request: ProvisionRequest) -> func.HttpResponse:
    """Plan the deployment and start it, one provision per app at a time."""
    try:
        job = azure_job(request)
    except BadRequest as error:
        return refused(error)
    instance_id = provision_instance_id(request.app_name)
    if not await start_once(client, instance_id, job):
        message = (f"a provision of app {request.app_name!r} is already running ({instance_id}); "
                   f"poll /api/status/{instance_id} and provision again when it has finished")
        return error_response(409, message, instanceId=instance_id)
    return client.create_check_status_response(req, instance_id)


@bp.route(route="provision", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def start_provision(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the body, start provisioning, return 202 with the status URLs."""
    try:
        request = parse_body(req, ProvisionRequest)
    except BadRequest as error:
        return refused(error)
    if request.target == "azure":
        return await start_on_azure(req, client, request)
    if azure_only := [name for name in AZURE_ONLY_FIELDS if name in request.model_fields_set]:
        fields = [{"field": name, "message": "only used with target 'azure'"} for name in azure_only]
        return refused(BadRequest.naming("cannot provision locally", fields))
    if request.port is not None and (problem := await asyncio.to_thread(port_problem, request)):
        return refused(BadRequest(f"cannot provision: port: {problem}", [{"field": "port", "message": problem}]))
    job = ProvisionJob(target=request.target, app_name=request.app_name, port=request.port)
    instance_id = await client.start_new(provision.NAME, client_input=job.model_dump(mode="json"))
    return client.create_check_status_response(req, instance_id)
