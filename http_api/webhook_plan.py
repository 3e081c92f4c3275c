"""What a verified training-complete webhook asks for, checked against the target: the app, its base model, the
adapter. Run only after the signature is verified, so an unsigned caller learns nothing about which apps exist.
"""

from dataclasses import dataclass

import azure.durable_functions as df
from pydantic import ValidationError

from http_api.deploy import azure_place, deploy_job, registered_app
from http_api.preflight import deploy_problems
from http_api.responses import BadRequest
from payloads.requests import DeployRequest, TargetName
from payloads.steps import AzurePlace, DeployJob, DeploymentRecord
from payloads.webhooks import TrainingComplete
from service_settings import ServiceSettings
from share_layout import paths
from targets import TargetNotConfigured, get_target, missing_azure_settings
from targets.protocol import Target

FIELD_OF = {"adapter_source": "adapter_path"}
"""The deploy request's field names as the webhook body calls them."""


@dataclass(frozen=True)
class RegisteredTarget:
    """The target the app registry has for an app and, for an app on Azure, where it lives."""

    name: TargetName
    azure: AzurePlace | None = None


class UnknownApp(BadRequest):
    """404: no such app on the webhook's target."""

    status_code = 404


def webhook_target(settings: ServiceSettings) -> TargetName:
    """WEBHOOK_TARGET, else 'azure' where the Azure target is configured, else 'local'."""
    if settings.webhook_target == "azure" or (settings.webhook_target is None and not missing_azure_settings(settings)):
        return "azure"
    return "local"


def current_base_model(target: Target, app_name: str) -> str | None:
    """The base model the app serves now (serving/apps/<app>/current.json), None when it has no readable record."""
    record_path = paths.current_record(app_name)
    try:
        if not target.share.exists(record_path):
            return None
        return DeploymentRecord.model_validate_json(target.share.read_bytes(record_path)).base_model
    except (OSError, ValidationError, ValueError):
        return None


def _target(name: TargetName, settings: ServiceSettings, place: AzurePlace | None) -> Target:
    try:
        return get_target(name, settings, place)
    except TargetNotConfigured as error:
        raise BadRequest(f"the webhook's target cannot be used: {error}") from error


async def registered_target(client: df.DurableOrchestrationClient, app_name: str) -> RegisteredTarget | None:
    """The target (and Azure place) the app registry has for `app_name`, or None when the app is not registered."""
    config = await registered_app(client, app_name)
    return RegisteredTarget(config.target, azure_place(config)) if config else None


def plan_deploy(body: TrainingComplete, settings: ServiceSettings, registered: RegisteredTarget | None) -> DeployJob:
    """The deploy the webhook asks for, or BadRequest: 404 for an unknown app, 400 naming each unusable field.

    The app's target and, on Azure, its place are the registry's (`registered`); an app provisioned before the
    registry existed is looked for on WEBHOOK_TARGET's target, where the app settings say.
    """
    target_name = registered.name if registered else webhook_target(settings)
    place = registered.azure if registered else None
    target = _target(target_name, settings, place)
    if not target.apps.is_provisioned(body.app_name):
        raise UnknownApp(f"app {body.app_name!r} is not known on target {target_name!r}: provision and deploy it "
                         "before training runs notify it", [{"field": "app_name", "message": "unknown app"}])
    base_model = body.base_model or current_base_model(target, body.app_name)
    if base_model is None:
        raise BadRequest.naming("cannot deploy", [{"field": "base_model", "message": (
            f"app {body.app_name!r} has no deployment whose base model could be reused: pass base_model")}])
    request = DeployRequest(target=target_name, app_name=body.app_name, base_model=base_model,
                            adapter_source=body.adapter_path)
    problems = [{**problem, "field": FIELD_OF.get(problem["field"], problem["field"])}
                for problem in deploy_problems(request, settings, place)]
    if problems:
        raise BadRequest.naming("cannot deploy", problems)
    return deploy_job(request, settings.readiness_poll_seconds, place)
