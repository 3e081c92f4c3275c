"""POST /api/deploy: validate a deploy, hand it to the app's deployer, answer 202 with the request id.

Deploys of one app never run at once: every request goes to the app's deployer (orchestrations.deployer), which
runs one deploy at a time and, of the requests that arrive meanwhile, runs only the newest (the others are marked
superseded). A request naming only `app_name` deploys to the target the app is registered with (GET /api/apps);
an app never registered deploys to the request's target, `local` by default. A deploy to Azure of an app registered
on Azure goes to the app's own subscription, resource group, storage account and share (the job's `azure` place),
not to the app settings' (which serve only apps never registered).
"""

import asyncio
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

from http_api.deploy_queue import DeployNotAccepted, accepted_response, submit_deploy, user_request_id
from http_api.preflight import deploy_problems
from http_api.responses import BadRequest, error_response, parse_body, refused
from orchestrations.app_registry import registry_instance_id
from payloads.apps import AppConfig, DeployTrigger
from payloads.redeploy import SmokeGate
from payloads.requests import DeployRequest
from payloads.steps import AzurePlace, DeployJob
from service_settings import get_settings

bp = df.Blueprint()


def deploy_job(request: DeployRequest, poll_seconds: int, place: AzurePlace | None = None) -> DeployJob:
    """The orchestration input for `request`: its own fields, so request and history can change apart; `place` is
    where the registered Azure app lives (None: the app settings' place)."""
    return DeployJob(
        target=request.target, app_name=request.app_name, base_model=request.base_model,
        adapter_source=request.adapter_source, version=request.version,
        readiness_timeout_s=request.readiness_timeout_s, poll_seconds=poll_seconds, azure=place,
        strategy=request.strategy, gate=SmokeGate.model_validate(request.gate.model_dump()) if request.gate else None,
    )


async def registered_app(client: df.DurableOrchestrationClient, app_name: str) -> AppConfig | None:
    """The app's registration (the completed `app_<app>` instance's output), or None."""
    status = await client.get_status(registry_instance_id(app_name))
    if not status or status.runtime_status != df.OrchestrationRuntimeStatus.Completed:
        return None
    try:
        return AppConfig.model_validate(status.output)
    except ValueError:
        return None


def azure_place(config: AppConfig | None) -> AzurePlace | None:
    """Where an app registered on Azure lives, from its registration; None for no registration or another target."""
    if config is None or config.target != "azure":
        return None
    return AzurePlace(subscription_id=config.SUBSCRIPTION_ID, resource_group=config.RESOURCE_GROUP_NAME,
                      storage_account=config.STORAGE_ACCOUNT_NAME, file_share=config.FILE_SHARE_NAME)


async def with_registration(
    client: df.DurableOrchestrationClient, request: DeployRequest
) -> tuple[DeployRequest, AzurePlace | None]:
    """The request with the registered app's target when the body names none (else as sent), and the registered
    Azure app's place when the deploy goes to Azure (None: the app settings' place)."""
    config = await registered_app(client, request.app_name)
    if config is not None and "target" not in request.model_fields_set:
        request = request.model_copy(update={"target": config.target})
    return request, azure_place(config) if request.target == "azure" else None


@bp.route(route="deploy", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def start_deploy(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the body and what it names, queue the deploy with the app's deployer, return 202 with its id."""
    arrived = datetime.now(UTC)  # orders the app's requests: of those waiting, the latest to arrive deploys
    try:
        request = parse_body(req, DeployRequest)
    except BadRequest as error:
        return refused(error)
    request, place = await with_registration(client, request)
    problems = await asyncio.to_thread(deploy_problems, request, get_settings(), place)
    if problems:
        return refused(BadRequest.naming("cannot deploy", problems))
    job = deploy_job(request, get_settings().readiness_poll_seconds, place)
    request_id = user_request_id(request.app_name, arrived)
    try:
        submitted = await submit_deploy(client, job, request_id, DeployTrigger(kind="user"), requested_at=arrived)
    except DeployNotAccepted as error:
        return error_response(503, str(error), requestId=request_id)
    return accepted_response(req, submitted)
