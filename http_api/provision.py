"""POST /api/provision: start the provision orchestration (local target; on Azure, provisioning is not built yet)."""

import asyncio

import azure.durable_functions as df
import azure.functions as func

from http_api.responses import BadRequest, parse_body, refused
from orchestrations import provision
from payloads.requests import ProvisionRequest
from payloads.steps import ProvisionJob
from service_settings import get_settings
from targets.local import local_target

bp = df.Blueprint()

AZURE_NOT_BUILT = (
    "provisioning on target 'azure' is not built yet: deploy infra/provision/inference.json by hand (see README, "
    "Deploy to Azure), set the function app's settings from its outputs (AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, "
    "AZURE_STORAGE_ACCOUNT, AZURE_FILE_SHARE), then POST /api/deploy with target 'azure'"
)


def port_problem(request: ProvisionRequest) -> str | None:
    """Why the local app cannot be given the requested port (another app has it, or a process holds it)."""
    assert request.port is not None
    return local_target(get_settings()).apps.port_problem(request.app_name, request.port)


@bp.route(route="provision", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def start_provision(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Validate the body, start provisioning, return 202 with the status URLs."""
    try:
        request = parse_body(req, ProvisionRequest)
    except BadRequest as error:
        return refused(error)
    if request.target == "azure":
        return refused(BadRequest(AZURE_NOT_BUILT, [{"field": "target", "message": AZURE_NOT_BUILT}]))
    if request.port is not None and (problem := await asyncio.to_thread(port_problem, request)):
        return refused(BadRequest(f"cannot provision: port: {problem}", [{"field": "port", "message": problem}]))
    job = ProvisionJob(target=request.target, app_name=request.app_name, port=request.port)
    instance_id = await client.start_new(provision.NAME, client_input=job.model_dump(mode="json"))
    return client.create_check_status_response(req, instance_id)
