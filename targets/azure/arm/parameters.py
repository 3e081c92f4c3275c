"""The deployment's parameters: the parameter file, under the app settings, under the request's overrides.

Pure (no request sent): the HTTP trigger builds the plan and refuses a bad one with a 400 naming each field, before
anything starts. Secure parameters (apiKey) are never part of the plan: the start activity adds the key itself,
and, when the app exists, what a re-provision keeps from it (carry_over).
"""

from typing import Any

from payloads.requests import ProvisionRequest
from payloads.steps import AzureProvisioning
from service_settings import ServiceSettings
from targets.azure.arm.template import declared_parameters, parameter_file_values, secure_parameters

REQUEST_TO_PARAMETER = {
    "location": "location",
    "storage_account_name": "storageAccountName",
    "file_share_name": "fileShareName",
    "environment_name": "acaEnvironmentName",
    "environment_storage_name": "acaEnvironmentStorageName",
    "app_name": "acaAppName",
    "log_analytics_name": "acaLogAnalyticsName",
    "resources_to_create": "resourcesToCreate",
    "gpu_profile_type": "gpuProfileType",
    "gpu_profile_name": "gpuProfileName",
    "container_image": "containerImage",
    "registry_server": "registryServer",
    "registry_identity_resource_id": "registryIdentityResourceId",
    "base_model_path": "baseModelPath",
    "adapter_path": "adapterPath",
    "maximum_instance_count": "maximumInstanceCount",
    "min_replicas": "minReplicas",
    "max_batch_size": "maxBatchSize",
    "cooldown_period_seconds": "cooldownPeriodSeconds",
    "active_revisions_mode": "activeRevisionsMode",
}
PARAMETER_TO_FIELD = {parameter: field for field, parameter in REQUEST_TO_PARAMETER.items()}
SETTING_FOR_PARAMETER = {
    "storageAccountName": "AZURE_STORAGE_ACCOUNT",
    "fileShareName": "AZURE_FILE_SHARE",
    "containerImage": "AZURE_INFERENCE_IMAGE",
    "registryServer": "AZURE_INFERENCE_REGISTRY_SERVER",
    "registryIdentityResourceId": "AZURE_INFERENCE_PULL_IDENTITY_ID",
}
JSON_TYPES: dict[str, type | tuple[type, ...]] = {"string": str, "int": int, "array": list, "bool": bool,
                                                  "object": dict}
DEPLOYMENT_PREFIX = "inference-"


class PlanProblems(ValueError):
    """The request, with the settings and the parameter file, cannot be deployed; one entry per field."""

    def __init__(self, fields: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{item['field']}: {item['message']}" for item in fields))
        self.fields = fields


def deployment_name(app_name: str) -> str:
    """The app's one deployment name: a retry or a re-run PUTs the same deployment (ARM: 1-64 of [-\\w._()])."""
    return f"{DEPLOYMENT_PREFIX}{app_name}"


def settings_values(settings: ServiceSettings) -> dict[str, Any]:
    """Template parameters the app settings give (unset settings give nothing)."""
    values = {
        "storageAccountName": settings.azure_storage_account,
        "fileShareName": settings.azure_file_share,
        "containerImage": settings.azure_inference_image,
        "registryServer": settings.azure_inference_registry_server,
        "registryIdentityResourceId": settings.azure_inference_pull_identity_id,
    }
    return {name: value for name, value in values.items() if value}


def request_values(request: ProvisionRequest) -> dict[str, Any]:
    """Template parameters the request sets (the app name always: it is the app's identity everywhere)."""
    values = {REQUEST_TO_PARAMETER[field]: getattr(request, field)
              for field in request.model_fields_set if field in REQUEST_TO_PARAMETER}
    values["acaAppName"] = request.app_name
    return {name: value for name, value in values.items() if value is not None}


def merged_parameters(request: ProvisionRequest, settings: ServiceSettings) -> dict[str, Any]:
    """Parameter file < settings < request; a secure parameter is never taken from any of them."""
    merged = {**parameter_file_values(), **settings_values(settings), **request_values(request)}
    return {name: value for name, value in merged.items() if name not in secure_parameters()}


def _field(parameter: str) -> str:
    return PARAMETER_TO_FIELD.get(parameter, parameter)


def _where(parameter: str) -> str:
    setting = SETTING_FOR_PARAMETER.get(parameter)
    sources = [f"send {_field(parameter)}"] + ([f"set the {setting} app setting"] if setting else [])
    return " or ".join(sources) + f", or give {parameter} a value in infra/provision/inference.parameters.json"


def _value_problem(parameter: str, spec: dict[str, Any], value: Any) -> str | None:
    expected = JSON_TYPES.get(str(spec.get("type", "")).lower())
    if expected and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
        return f"{parameter} must be a JSON {spec['type']}, got {type(value).__name__}"
    allowed = spec.get("allowedValues")
    items = value if isinstance(value, list) else [value]
    if allowed and any(item not in allowed for item in items):
        return f"{parameter} must be one of {', '.join(map(str, allowed))}"
    if isinstance(value, int) and "minValue" in spec and value < spec["minValue"]:
        return f"{parameter} must be at least {spec['minValue']}"
    if isinstance(value, int) and "maxValue" in spec and value > spec["maxValue"]:
        return f"{parameter} must be at most {spec['maxValue']}"
    return None


def parameter_problems(parameters: dict[str, Any]) -> list[dict[str, str]]:
    """What the template would refuse: a required parameter missing, a value of the wrong type or out of range."""
    problems: list[dict[str, str]] = []
    secure = secure_parameters()
    for name, spec in declared_parameters().items():
        if name in secure:
            continue
        if name not in parameters:
            if "defaultValue" not in spec:
                problems.append({"field": _field(name), "message": f"required: {_where(name)}"})
        elif problem := _value_problem(name, spec, parameters[name]):
            problems.append({"field": _field(name), "message": problem})
    unknown = sorted(set(parameters) - set(declared_parameters()))
    problems += [{"field": name, "message": "not a parameter of infra/provision/inference.json"} for name in unknown]
    return problems


def provisioning_plan(request: ProvisionRequest, settings: ServiceSettings) -> AzureProvisioning:
    """The whole deployment to start for `request`; PlanProblems naming each field that stops it."""
    problems: list[dict[str, str]] = []
    subscription = request.subscription_id or settings.azure_subscription_id
    group = request.resource_group or settings.azure_resource_group
    if not subscription:
        problems.append({"field": "subscription_id", "message": "no subscription: send subscription_id or set the "
                         "AZURE_SUBSCRIPTION_ID app setting"})
    if not group:
        problems.append({"field": "resource_group", "message": "no resource group: send resource_group or set the "
                         "AZURE_RESOURCE_GROUP app setting"})
    if "--" in request.app_name:
        problems.append({"field": "app_name", "message": "a container app name must not contain two hyphens in a row"})
    parameters = merged_parameters(request, settings)
    problems += parameter_problems(parameters)
    if problems or not subscription or not group:
        raise PlanProblems(problems)
    return AzureProvisioning(
        subscription_id=subscription, resource_group=group, deployment_name=deployment_name(request.app_name),
        location=request.location, parameters=parameters, requested_parameters=sorted(request_values(request)),
        timeout_s=request.provision_timeout_s,
        poll_seconds=settings.azure_provisioning_poll_seconds,
    )
