"""azure.yaml and infra/main.bicep: what `azd up` provisions, builds and deploys, read without Azure."""

import json
import re
from typing import Any

import pytest
import yaml

from service_settings import ServiceSettings
from targets import missing_azure_settings
from tests.infra.bicep_literals import arm_declaration
from tests.infra.bicep_reader import BicepFile, read_bicep, read_bicep_text
from tests.infra.conftest import INFRA, REPO
from tests.infra.hosting import (
    block,
    durable_backend_problems,
    module_wiring_problems,
    settings_problems,
    top_level_keys,
)
from tests.infra.parameter_files import azd_parameters_problems


@pytest.fixture(scope="module")
def main() -> BicepFile:
    """Declarations of infra/main.bicep."""
    return read_bicep(INFRA / "main.bicep")


@pytest.fixture(scope="module")
def settings() -> dict[str, str]:
    """The function app's settings as function.bicep writes them (Bicep expression text)."""
    function = read_bicep(INFRA / "app" / "function.bicep")
    return top_level_keys("\n" + function.variables["baseSettings"].strip()[1:-1])


@pytest.fixture(scope="module")
def azure_yaml() -> dict[str, Any]:
    """azure.yaml."""
    return dict(yaml.safe_load((REPO / "azure.yaml").read_text()))


def test_azd_deploys_the_repository_root_as_a_python_function_app(azure_yaml: dict[str, Any]):
    assert azure_yaml["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert azure_yaml["services"] == {"api": {"project": ".", "language": "python", "host": "function"}}
    assert (REPO / "host.json").is_file() and (REPO / "function_app.py").is_file()


def test_postprovision_hook_builds_the_inference_image_from_its_dockerfile(azure_yaml: dict[str, Any],
                                                                           main: BicepFile):
    hook = azure_yaml["hooks"]["postprovision"]
    scripts = [REPO / hook["posix"]["run"], REPO / hook["windows"]["run"]]
    for script in scripts:
        text = script.read_text()
        assert "az acr build" in text and "--file inference_container/Dockerfile" in text
        used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", text)) | set(re.findall(r"\$env:([A-Z][A-Z0-9_]+)", text))
        assert used - {"LASTEXITCODE"} == {"AZURE_CONTAINER_REGISTRY_NAME", "INFERENCE_IMAGE"} <= set(main.outputs)


def test_image_tag_is_derived_from_files_that_exist(main: BicepFile):
    tag = main.variables["inferenceImageTag"]
    loaded = re.findall(r"loadTextContent\('([^']+)'\)", tag)
    assert loaded == ["../inference_container/Dockerfile", "../inference_container/requirements.txt"]
    assert all((INFRA / path).resolve().is_file() for path in loaded)


def test_main_parameters_map_every_required_parameter(main: BicepFile):
    parameters = json.loads((INFRA / "main.parameters.json").read_text())
    declared = {name: arm_declaration(param) for name, param in main.params.items()}
    assert azd_parameters_problems(declared, parameters) == []


def test_azd_parameters_check_catches_mistakes(main: BicepFile):
    declared = {name: arm_declaration(param) for name, param in main.params.items()}
    broken = {"parameters": {"environmentName": {"value": "${AZURE_ENV_NAME}"},
                             "inferenceMayCreateResources": {"value": "${FLAG=maybe}"},
                             "unknown": {"value": 1}}}
    problems = azd_parameters_problems(declared, broken)
    assert any("location: required" in p for p in problems)
    assert any("inferenceResourceGroupName: required" in p for p in problems)
    assert any("'maybe' is not of type bool" in p for p in problems)
    assert any("unknown: the template declares no such parameter" in p for p in problems)


def test_every_module_exists_and_gets_exactly_its_parameters(main: BicepFile):
    assert len(main.modules) == 8
    for module in main.modules.values():
        assert (INFRA / module.path).is_file(), module.path
        assert module_wiring_problems(module, read_bicep(INFRA / module.path).params) == []


def test_wiring_check_catches_a_missing_or_unknown_parameter(main: BicepFile):
    declared = read_bicep(INFRA / "app" / "registry.bicep").params
    broken = read_bicep_text(
        "module registry 'app/registry.bicep' = {\n  name: 'registry'\n  params: {\n    location: location\n"
        "    tags: tags\n    sku: 'Premium'\n  }\n}\n").modules["registry"]
    assert module_wiring_problems(broken, declared) == [
        "registry: passes sku, which app/registry.bicep does not declare",
        "registry: does not pass required resourceToken",
    ]


def test_flex_consumption_python_311_with_a_user_assigned_identity():
    function = read_bicep(INFRA / "app" / "function.bicep")
    plan = function.resources["plan"].body
    assert "tier: 'FlexConsumption'" in plan and "name: 'FC1'" in plan
    site = function.resources["functionApp"].body
    runtime = top_level_keys(block(site, "runtime"))
    assert runtime == {"name": "'python'", "version": "'3.11'"}
    assert "type: 'UserAssigned'" in site and "keyVaultReferenceIdentity: identityId" in site
    assert "'azd-service-name': 'api'" in site


def test_no_storage_key_or_secret_in_app_settings(settings: dict[str, str]):
    assert settings_problems(settings) == []
    storage = read_bicep(INFRA / "app" / "storage.bicep").resources["storage"].body
    assert "allowSharedKeyAccess: false" in storage


@pytest.mark.parametrize(("change", "problem"), [
    ({"AzureWebJobsStorage": "'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc'"}, "key material"),
    ({"AzureWebJobsStorage__credential": "'connectionstring'"}, "must be 'managedidentity'"),
    ({"WEBHOOK_SECRET": "webhookSecret"}, "must be a Key Vault reference"),
    ({"STORAGE_KEY": "storage.listKeys().keys[0].value"}, "looks like key material"),
])
def test_settings_check_catches_keys_and_plain_secrets(settings: dict[str, str], change: dict[str, str],
                                                       problem: str):
    problems = settings_problems({**settings, **change})
    assert any(problem in found for found in problems), problems


def test_the_durable_backend_matches_host_json(settings: dict[str, str]):
    host = json.loads((REPO / "host.json").read_text())
    assert durable_backend_problems(host, settings) == []


def test_backend_check_catches_a_switch_to_the_durable_task_scheduler(settings: dict[str, str]):
    host = {"extensions": {"durableTask": {"storageProvider": {
        "type": "azureManaged", "connectionStringName": "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"}}}}
    assert durable_backend_problems(host, settings) == [
        "host.json uses the Durable Task Scheduler; no DURABLE_TASK_SCHEDULER_CONNECTION_STRING setting"]
    without_queues = {k: v for k, v in settings.items() if k != "AzureWebJobsStorage__queueServiceUri"}
    assert durable_backend_problems({}, without_queues) == [
        "the Azure Storage backend needs AzureWebJobsStorage__queueServiceUri"]


def test_the_azure_target_gets_where_to_provision(main: BicepFile):
    passed = top_level_keys(block(main.modules["functionApp"].body, "inferenceSettings"))
    assert set(passed) == {
        "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_STORAGE_ACCOUNT", "AZURE_FILE_SHARE",
        "AZURE_INFERENCE_IMAGE", "AZURE_INFERENCE_REGISTRY_SERVER", "AZURE_INFERENCE_PULL_IDENTITY_ID",
    }
    assert passed["AZURE_INFERENCE_IMAGE"] == main.outputs["INFERENCE_IMAGE"].value


def test_every_setting_the_hosting_infra_passes_is_one_the_function_app_reads(main: BicepFile):
    passed = top_level_keys(block(main.modules["functionApp"].body, "inferenceSettings"))
    read = {name.upper() for name in ServiceSettings.model_fields}
    assert set(passed) - read == set()
    in_azure = ServiceSettings.model_construct(None, **{name.lower(): "x" for name in passed})
    missing = set(missing_azure_settings(in_azure))
    assert missing == set(), f"the Azure target would still miss {missing} in Azure"


def test_share_role_targets_the_same_default_account_as_the_inference_template():
    rbac = read_bicep(INFRA / "app" / "inference-rbac.bicep")
    default_name = "'aistorage${substring(uniqueString(resourceGroup().id), 0, 5)}'"
    assert default_name in rbac.variables["shareStorageAccountName"]
    inference = read_bicep(INFRA / "provision" / "inference.bicep")
    assert inference.params["resourceSuffix"].default == "substring(uniqueString(resourceGroup().id), 0, 5)"
    assert inference.params["storageAccountName"].default == "'aistorage${resourceSuffix}'"
