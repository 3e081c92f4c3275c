"""POST /api/provision with target "azure", in-process: the deployment planned from the parameter file, the app
settings and the request, a bad plan refused naming each field, one provision per app at a time."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from http_api.provision import start_provision
from service_settings import get_settings
from tests.function_app.durable_client import FakeDurableClient, post
from tests.function_app.invoke import client_function

SUBSCRIPTION = "5f1c2a7e-93d4-4b8a-a6e2-0c4f1d8b7e31"
SETTINGS = {"AZURE_SUBSCRIPTION_ID": SUBSCRIPTION, "AZURE_RESOURCE_GROUP": "rg-finetune",
            "AZURE_INFERENCE_IMAGE": "cr.example.azurecr.io/finetune-inference:abc", "AZURE_FILE_SHARE": "aifileshare",
            "AZURE_STORAGE_ACCOUNT": "aistorageabcde", "AZURE_PROVISIONING_POLL_SECONDS": "7"}
UNSET = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_INFERENCE_IMAGE", "AZURE_FILE_SHARE",
         "AZURE_STORAGE_ACCOUNT", "AZURE_INFERENCE_API_KEY", "AZURE_INFERENCE_REGISTRY_SERVER",
         "AZURE_INFERENCE_PULL_IDENTITY_ID", "AZURE_PROVISIONING_POLL_SECONDS")


def call(body: Any, client: FakeDurableClient) -> tuple[int, dict[str, Any]]:
    reply = asyncio.run(client_function(start_provision)(post("provision", body), client))
    return reply.status_code, json.loads(reply.get_body())


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The app settings azd gives the function app (image, subscription, group, share)."""
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield SETTINGS
    get_settings.cache_clear()


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def fields(body: dict[str, Any]) -> list[str]:
    return [item["field"] for item in body["error"]["fields"]]


def test_a_provision_on_azure_starts_the_app_s_one_instance_with_the_merged_parameters(settings) -> None:
    client = FakeDurableClient()
    status, body = call({"target": "azure", "app_name": "chat", "gpu_profile_type": "Consumption-GPU-NC8as-T4",
                         "resources_to_create": ["environment"], "location": "westus3"}, client)
    assert status == 202, body
    assert body["id"] == "provision_chat"
    plan = client.instances["provision_chat"].input["azure"]
    assert (plan["subscription_id"], plan["resource_group"], plan["deployment_name"]) == (
        SUBSCRIPTION, "rg-finetune", "inference-chat")
    assert plan["location"] == "westus3" and plan["poll_seconds"] == 7 and plan["timeout_s"] == 45 * 60
    parameters = plan["parameters"]
    assert parameters["acaAppName"] == "chat"  # the request
    assert parameters["gpuProfileType"] == "Consumption-GPU-NC8as-T4" and parameters["resourcesToCreate"] == [
        "environment"]
    assert parameters["containerImage"] == SETTINGS["AZURE_INFERENCE_IMAGE"]  # the settings
    assert parameters["storageAccountName"] == "aistorageabcde" and parameters["fileShareName"] == "aifileshare"
    assert parameters["gpuProfileName"] == "GPU" and parameters["maximumInstanceCount"] == 2  # the parameter file
    assert "acaEnvironmentName" not in parameters  # null in the file: the template's default name applies
    assert "apiKey" not in parameters  # never in an orchestration input


def test_provisioning_the_same_app_twice_at_once_is_409_naming_the_running_instance(settings) -> None:
    client = FakeDurableClient()
    assert call({"target": "azure", "app_name": "chat"}, client)[0] == 202
    status, body = call({"target": "azure", "app_name": "chat"}, client)
    assert status == 409 and body["error"]["instanceId"] == "provision_chat"
    assert call({"target": "azure", "app_name": "other"}, client)[0] == 202


def test_without_settings_the_missing_subscription_group_and_image_are_named(no_settings) -> None:
    client = FakeDurableClient()
    status, body = call({"target": "azure", "app_name": "chat"}, client)
    assert status == 400, body
    assert fields(body) == ["subscription_id", "resource_group", "container_image"]
    message = body["error"]["message"]
    assert "AZURE_SUBSCRIPTION_ID" in message and "AZURE_INFERENCE_IMAGE" in message
    assert client.instances == {}


@pytest.mark.parametrize(("override", "field"), [
    ({"storage_account_name": "Has_Upper"}, "storage_account_name"),
    ({"storage_account_name": "ab"}, "storage_account_name"),
    ({"file_share_name": "two--hyphens"}, "file_share_name"),
    ({"gpu_profile_type": "NC96-H100"}, "gpu_profile_type"),
    ({"resources_to_create": ["virtualMachine"]}, "resources_to_create.0"),
    ({"resources_to_create": ["environment", "environment"]}, "resources_to_create"),
    ({"subscription_id": "not-a-guid"}, "subscription_id"),
    ({"location": "West US 3"}, "location"),
    ({"max_batch_size": 1000}, "max_batch_size"),
    ({"maximum_instance_count": "2"}, "maximum_instance_count"),
    ({"base_model_path": "../outside"}, "base_model_path"),
    ({"registry_identity_resource_id": "/subscriptions/x/nope"}, "registry_identity_resource_id"),
    ({"provision_timeout_s": 10}, "provision_timeout_s"),
    ({"port": 8080}, "port"),
    ({"app_name": "a--b"}, "app_name"),
])
def test_a_bad_value_is_400_naming_its_field_and_starts_nothing(settings, override: dict[str, Any],
                                                                 field: str) -> None:
    client = FakeDurableClient()
    status, body = call({"target": "azure", "app_name": "chat", **override}, client)
    assert status == 400, body
    assert fields(body) == [field]
    assert client.instances == {}


def test_azure_fields_with_the_local_target_are_400_naming_them(settings) -> None:
    client = FakeDurableClient()
    status, body = call({"app_name": "chat", "gpu_profile_type": "NC24-A100", "resource_group": "rg"}, client)
    assert status == 400, body
    assert sorted(fields(body)) == ["gpu_profile_type", "resource_group"]
    assert "only used with target 'azure'" in body["error"]["message"]


def test_the_api_key_setting_never_reaches_the_orchestration_input(settings, monkeypatch) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_API_KEY", "sk-setting-never-in-input")
    get_settings.cache_clear()
    client = FakeDurableClient()
    assert call({"target": "azure", "app_name": "chat"}, client)[0] == 202
    assert "sk-setting-never-in-input" not in json.dumps(client.instances["provision_chat"].input)
