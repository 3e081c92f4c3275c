"""Provisioning on Azure, the pure parts: parameter merge, deployment naming, readable failures, progress, outputs."""

import json
import re
from typing import Any, get_args

from payloads.requests import GpuProfileType, ProvisionRequest, SharedResource
from payloads.steps import ResourceProgress
from service_settings import ServiceSettings
from targets.azure.arm.carry_over import FROM_THE_APP
from targets.azure.arm.deployments import config_outputs
from targets.azure.arm.failures import failure_summary
from targets.azure.arm.operations import progress_line, resource_progress
from targets.azure.arm.parameters import (
    REQUEST_TO_PARAMETER,
    deployment_name,
    merged_parameters,
    parameter_problems,
    provisioning_plan,
)
from targets.azure.arm.template import allowed_values, declared_parameters, parameter_file_values, secure_parameters

DEPLOYMENT_NAME = re.compile(r"^[-\w._()]{1,64}$")


def settings(**values: Any) -> ServiceSettings:
    return ServiceSettings(_env_file=None, **values)  # type: ignore[call-arg]


def operation(kind: str, name: str, state: str, error: dict[str, Any] | None = None,
              stamp: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    properties: dict[str, Any] = {"provisioningState": state, "timestamp": stamp,
                                  "targetResource": {"resourceType": kind, "resourceName": name}}
    if error:
        properties["statusMessage"] = {"status": "Failed", "error": error}
    return {"operationId": name, "properties": properties}


def test_each_app_has_one_valid_deployment_name_so_a_rerun_reuses_it() -> None:
    longest = "a" * 32
    assert deployment_name("chat") == deployment_name("chat") != deployment_name("chat-two")
    assert DEPLOYMENT_NAME.match(deployment_name(longest))


def test_the_request_beats_the_settings_which_beat_the_parameter_file() -> None:
    request = ProvisionRequest.model_validate({"target": "azure", "app_name": "chat", "file_share_name": "myshare",
                                               "max_batch_size": 8})
    merged = merged_parameters(request, settings(azure_file_share="settingshare", azure_storage_account="acct1",
                                                 azure_inference_image="img:1"))
    assert merged["fileShareName"] == "myshare" and merged["maxBatchSize"] == 8  # request
    assert merged["storageAccountName"] == "acct1" and merged["containerImage"] == "img:1"  # settings
    assert merged["cooldownPeriodSeconds"] == parameter_file_values()["cooldownPeriodSeconds"]  # the file
    assert merged["acaAppName"] == "chat"
    assert not {"location", "acaEnvironmentName", "apiKey"} & set(merged)  # null in the file, or secure
    assert parameter_problems(merged) == []
    plan = provisioning_plan(request, settings(azure_inference_image="img:1", azure_subscription_id="s",
                                               azure_resource_group="g"))
    assert plan.requested_parameters == ["acaAppName", "fileShareName", "maxBatchSize"]  # the image: a setting's


def test_a_secure_parameter_is_never_planned_even_from_settings_or_the_file() -> None:
    assert secure_parameters() == {"apiKey", "adminKey"}
    assert "apiKey" not in parameter_file_values()
    request = ProvisionRequest.model_validate({"target": "azure"})
    merged = merged_parameters(request, settings(azure_inference_api_key="sk-never", azure_inference_image="i"))
    assert "apiKey" not in merged and "sk-never" not in json.dumps(merged)


def test_the_request_can_set_every_template_parameter_but_the_suffix_the_key_and_what_the_app_keeps() -> None:
    assert set(REQUEST_TO_PARAMETER.values()) == set(declared_parameters()) - {"resourceSuffix", "apiKey", "adminKey",
                                                                               "defaultCommands", *FROM_THE_APP}


def test_the_request_s_choices_are_the_template_s_allowed_values() -> None:
    assert list(get_args(GpuProfileType)) == allowed_values("gpuProfileType")
    assert list(get_args(SharedResource)) == allowed_values("resourcesToCreate")


def test_values_the_template_would_refuse_are_named_before_anything_starts() -> None:
    problems = parameter_problems({"defaultCommands": ["x"], "maximumInstanceCount": 0, "gpuProfileType": "H100",
                                   "acaAppName": 7, "bogus": 1})
    named = {item["field"]: item["message"] for item in problems}
    assert set(named) == {"maximum_instance_count", "gpu_profile_type", "app_name", "container_image", "bogus"}
    assert "at least 1" in named["maximum_instance_count"] and "NC24-A100" in named["gpu_profile_type"]
    assert "AZURE_INFERENCE_IMAGE" in named["container_image"]


def test_a_quota_failure_names_the_resource_the_code_and_what_to_do() -> None:
    nested = json.dumps({"status": "Failed", "error": {"code": "ResourceDeploymentFailure", "message": "failed",
                                                       "details": [{"code": "MaxRegionalQuotaExceeded",
                                                                    "message": "Quota of 0 GPUs in westus3"}]}})
    failed = operation("Microsoft.App/managedEnvironments", "aienvx", "Failed", {"code": "Conflict",
                                                                                 "message": nested})
    summary = failure_summary("inference-chat", {"code": "DeploymentFailed", "message": "At least one failed"},
                              [operation("Microsoft.Storage/storageAccounts", "st", "Succeeded"), failed])
    assert "Microsoft.App/managedEnvironments 'aienvx' failed: MaxRegionalQuotaExceeded: Quota of 0 GPUs" in summary
    assert "request more quota" in summary and "another region (location)" in summary
    assert "storageAccounts" not in summary


def test_an_invalid_workload_profile_names_the_allowed_profile_types() -> None:
    error = {"code": "WorkloadProfileInvalidType", "message": "Workload profile type 'X' is invalid."}
    summary = failure_summary("inference-chat", None, [operation("Microsoft.App/managedEnvironments", "e", "Failed",
                                                                 error)])
    assert "WorkloadProfileInvalidType" in summary
    assert all(profile in summary for profile in allowed_values("gpuProfileType"))


def test_a_storage_account_name_taken_elsewhere_says_to_choose_another() -> None:
    error = {"code": "StorageAccountAlreadyTaken", "message": "The storage account named ai is already taken."}
    summary = failure_summary("inference-chat", {"code": "InvalidTemplateDeployment", "details": [error]}, [])
    assert "StorageAccountAlreadyTaken" in summary and "choose another storage_account_name" in summary


def test_an_unknown_error_keeps_arm_s_code_and_a_bounded_message() -> None:
    summary = failure_summary("d", {"code": "DeploymentFailed", "details": [{"code": "Oddity", "message": "x" * 5000}]},
                              [])
    assert "Oddity: xxx" in summary and len(summary) < 600


def test_progress_shows_each_resource_once_with_its_latest_state() -> None:
    resources = resource_progress([
        operation("Microsoft.App/containerApps", "chat", "Running", stamp="2026-01-01T00:00:01Z"),
        operation("Microsoft.Storage/storageAccounts", "st", "Succeeded"),
        operation("Microsoft.App/containerApps", "chat", "Succeeded", stamp="2026-01-01T00:00:09Z"),
        {"properties": {"provisioningOperation": "EvaluateDeploymentOutput", "provisioningState": "Succeeded"}},
    ])
    assert resources == [ResourceProgress(type="Microsoft.App/containerApps", name="chat", state="Succeeded"),
                         ResourceProgress(type="Microsoft.Storage/storageAccounts", name="st", state="Succeeded")]
    assert progress_line(resources) == "2 of 2 resources done"
    running = [ResourceProgress(type="Microsoft.App/containerApps", name="chat", state="Running")]
    assert progress_line(running) == "0 of 1 resources done; running: Microsoft.App/containerApps 'chat'"


def test_outputs_are_the_config_keys_only_with_the_endpoint_as_a_url() -> None:
    outputs = {name: {"type": "String", "value": name.lower()} for name in (
        "SUBSCRIPTION_ID", "RESOURCE_GROUP_NAME", "STORAGE_ACCOUNT_NAME", "FILE_SHARE_NAME", "ACA_APP_NAME")}
    outputs["ACA_APP_ENDPOINT"] = {"type": "String", "value": "chat.example.azurecontainerapps.io"}
    outputs["EXTRA"] = {"type": "String", "value": "not a config key"}
    config = config_outputs(outputs)
    assert config["ACA_APP_ENDPOINT"] == "https://chat.example.azurecontainerapps.io"
    assert "EXTRA" not in config and len(config) == 6
