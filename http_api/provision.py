"""POST /api/provision: start the provision orchestration (local target; on Azure, provisioning is not built yet)."""

import azure.durable_functions as df
import azure.functions as func

from http_api.responses import BadRequest, parse_body, refused
from orchestrations import provision
from payloads.requests import ProvisionRequest
from payloads.steps import ProvisionJob

bp = df.Blueprint()

AZURE_NOT_BUILT = (
    "provisioning on target 'azure' is not built yet: deploy infra/provision/inference.json by hand (see README, "
    "Deploy to Azure), set the function app's settings from its outputs (AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, "
    "AZURE_STORAGE_ACCOUNT, AZURE_FILE_SHARE), then POST /api/deploy with target 'azure'"
)


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
    job = ProvisionJob(target=request.target, app_name=request.app_name, port=request.port)
    instance_id = await client.start_new(provision.NAME, client_input=job.model_dump(mode="json"))
    return client.create_check_status_response(req, instance_id)
