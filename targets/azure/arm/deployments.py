"""The ARM calls of provisioning: make sure the resource group exists, start the deployment, read it.

Start does not wait for the deployment: `begin_create_or_update(..., polling=False)` sends the PUT (azure-core's ARM
pipeline retrying 408/429/5xx and broken connections) and returns ARM's first answer, "Accepted" or "Running". A new
Container Apps environment with a GPU profile takes many minutes, longer than an activity should block, so the
provision orchestration reads the deployment on a durable timer instead (the monitor pattern).

A deployment is tagged with the orchestration run that PUT it. A retry of the start activity whose PUT did reach
ARM finds its own run's deployment and adopts it, instead of PUTting again; a deployment of another run that is
still going is left alone, and the start fails saying so (ARM would refuse the PUT with DeploymentActive anyway).
Where the tags are not echoed back, "this run's" means: the same parameters, and still running or written since
the run asked for it.

When the app exists, the PUT also carries what deploys set on it (carry_over), so provisioning again never undoes
a deploy and, with nothing else changed, starts no revision.
"""

import json
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource.deployments.models import Deployment, DeploymentParameter, DeploymentProperties
from azure.mgmt.resource.resources.models import ResourceGroup

from payloads.steps import (
    DEPLOYMENT_ENDED,
    ArmDeploymentRef,
    DeploymentStarted,
    DeploymentStatus,
    ProvisionOutputs,
    ResourceGroupResult,
    StartDeploymentInput,
)
from service_settings import ServiceSettings
from targets.azure.arm.api_key import admin_key_for, api_key_for
from targets.azure.arm.carry_over import IMAGE, carried_parameters, existing_app
from targets.azure.arm.failures import failure_summary
from targets.azure.arm.operations import resource_progress
from targets.azure.arm.template import ADMIN_KEY_PARAMETER, API_KEY_PARAMETER, template
from targets.azure.clients import arm_deployments_client, arm_endpoint, arm_resources_client

RUN_TAG = "finetune-deploy-run"
APP_TAG = "finetune-deploy-app"
REDACTED = "<redacted>"


class DeploymentBusy(RuntimeError):
    """Another run's deployment of this app is still going."""


class DeploymentRefused(RuntimeError):
    """ARM refused the deployment outright (validation, a name taken, quota checked up front)."""


def error_tree(error: HttpResponseError) -> dict[str, Any]:
    """ARM's `error` object of a refused request (code, message, details), or what azure-core made of it."""
    try:
        body = json.loads(error.response.text()) if error.response is not None else None
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    code = getattr(error.error, "code", None) or (error.reason or "Error").replace(" ", "")
    return {"code": code, "message": getattr(error.error, "message", None) or error.message}


def state_of(deployment: dict[str, Any]) -> str:
    """A deployment's provisioningState as ARM wrote it ("Accepted" when it has none yet)."""
    return str((deployment.get("properties") or {}).get("provisioningState") or "Accepted")


def config_outputs(outputs: dict[str, Any]) -> dict[str, str]:
    """The inference.config.json keys of the deployment's outputs (nothing else), ACA_APP_ENDPOINT as a URL:
    the template outputs the app's host name (ingress fqdn); clients and deploys use https://<fqdn>."""
    values = {name: str(outputs[name].get("value")) for name in ProvisionOutputs.model_fields
              if isinstance(outputs.get(name), dict)}
    endpoint = values.get("ACA_APP_ENDPOINT")
    if endpoint and "://" not in endpoint:
        values["ACA_APP_ENDPOINT"] = f"https://{endpoint}"
    return values


def is_this_run(existing: Any, step: StartDeploymentInput, state: str) -> bool:
    """Whether the deployment ARM has under this name is the one this run PUT (see the module)."""
    tags = existing.tags or {}
    if RUN_TAG in tags:
        return bool(tags[RUN_TAG] == step.run_id)
    shown = (existing.as_dict().get("properties") or {}).get("parameters") or {}
    same = all(isinstance(shown.get(name), dict) and shown[name].get("value") == value
               for name, value in step.parameters.items() if name != IMAGE)  # the app's image may replace it
    written = existing.properties.timestamp if existing.properties else None
    recent = step.requested_at is not None and written is not None and written >= step.requested_at
    return same and (state not in DEPLOYMENT_ENDED or recent)


class ArmProvisioning:
    """Resource group and template deployments of one subscription, on the one credential."""

    def __init__(self, settings: ServiceSettings, subscription: str) -> None:
        self._settings = settings
        self._subscription = subscription
        endpoint = arm_endpoint(settings)
        self._groups = arm_resources_client(subscription, *endpoint).resource_groups
        client = arm_deployments_client(subscription, *endpoint)
        self._deployments = client.deployments
        self._operations = client.deployment_operations

    def ensure_group(self, name: str, location: str | None) -> ResourceGroupResult:
        """The group's region; creates the group in `location` when it does not exist (never moves one)."""
        try:
            return ResourceGroupResult(location=self._groups.get(name).location, created=False)
        except ResourceNotFoundError:
            if not location:
                raise ValueError(
                    f"resource group {name!r} does not exist in subscription {self._subscription}: send location "
                    "(a region such as westus3) to create it, or name an existing resource_group"
                ) from None
        created = self._groups.create_or_update(name, ResourceGroup(location=location))
        return ResourceGroupResult(location=created.location, created=True)

    def _existing(self, ref: ArmDeploymentRef) -> Any:
        try:
            return self._deployments.get(ref.resource_group, ref.deployment_name)
        except ResourceNotFoundError:
            return None

    def _this_run(self, step: StartDeploymentInput) -> DeploymentStarted | None:
        """The deployment as this run started it, if this run's PUT already reached ARM (see the module)."""
        existing = self._existing(step)
        if existing is None:
            return None
        state = state_of(existing.as_dict())
        if is_this_run(existing, step, state):
            return DeploymentStarted(state=state, adopted=True)
        if state not in DEPLOYMENT_ENDED:
            raise DeploymentBusy(
                f"ARM deployment '{step.deployment_name}' of app {step.app_name!r} is still {state} from an "
                "earlier provision; wait until it ends (Azure portal, the resource group's Deployments), then "
                "provision again"
            )
        return None

    def start(self, step: StartDeploymentInput) -> DeploymentStarted:
        """PUT the incremental deployment of the committed template and return at once (see the module)."""
        if (adopted := self._this_run(step)) is not None:
            return adopted
        app = existing_app(self._settings, self._subscription, step.resource_group, step.app_name)
        values = {**step.parameters, **carried_parameters(app, step.parameters, step.requested_parameters)}
        key = api_key_for(self._settings, self._subscription, step.resource_group, step.app_name)
        parameters = {name: DeploymentParameter(value=value) for name, value in values.items()}
        parameters[API_KEY_PARAMETER] = DeploymentParameter(value=key)
        admin_key = admin_key_for(self._settings, self._subscription, step.resource_group, step.app_name)
        parameters[ADMIN_KEY_PARAMETER] = DeploymentParameter(value=admin_key)
        body = Deployment(
            properties=DeploymentProperties(mode="Incremental", template=template(), parameters=parameters),
            tags={RUN_TAG: step.run_id, APP_TAG: step.app_name},
        )
        try:
            poller = self._deployments.begin_create_or_update(
                step.resource_group, step.deployment_name, body, polling=False
            )
        except HttpResponseError as error:
            if error.status_code == 409 and (adopted := self._this_run(step)) is not None:
                return adopted  # azure-core repeated a PUT whose answer was lost: ARM has this run's deployment
            summary = failure_summary(step.deployment_name, error_tree(error), [])
            raise DeploymentRefused(summary.replace(key, REDACTED).replace(admin_key, REDACTED)) from None
        return DeploymentStarted(state=state_of(poller.result().as_dict()))

    def read(self, ref: ArmDeploymentRef) -> DeploymentStatus:
        """The deployment's state and resources; its outputs once it succeeded; what failed once it failed."""
        deployment = self._deployments.get(ref.resource_group, ref.deployment_name).as_dict()
        properties = deployment.get("properties") or {}
        state = state_of(deployment)
        operations = [operation.as_dict() for operation in
                      self._operations.list(ref.resource_group, ref.deployment_name)]
        status = DeploymentStatus(state=state, resources=resource_progress(operations))
        if state == "Succeeded":
            status.outputs = config_outputs(properties.get("outputs") or {})
        elif state in ("Canceled", "Deleted"):
            status.failure = (f"ARM deployment '{ref.deployment_name}' was {state.lower()} before it finished "
                              "(outside this service); provision again to start it anew")
        elif state == "Failed":
            status.failure = failure_summary(ref.deployment_name, properties.get("error"), operations)
        return status
