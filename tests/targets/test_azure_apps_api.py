"""The Azure app host and simulated Container Apps where no process runs: auth, refusals, and clear errors."""

import logging
from typing import Any

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.mgmt.appcontainers.models import ContainerApp

from service_settings import get_settings
from share_layout import paths
from targets.azure.apps import AzureApps, azure_apps
from targets.azure.clients import container_apps_client, default_credential
from targets.azure.share import AzureFileShare
from targets.azure.target import azure_target
from tests.simulators.container_apps.inference_app import inference_app_body
from tests.simulators.simulated_azure import (
    ENVIRONMENT_ID,
    ENVIRONMENT_STORAGE,
    RESOURCE_GROUP,
    SUBSCRIPTION_ID,
    SimulatedContainerApps,
)

pytest_plugins = ["tests.simulators.azure_fixtures"]

APP = "aiacaapp1a2b3"
BASE_MODEL = "model-cache/local/tiny-chat"
API_KEY = "sk-simulated-0123456789abcdefghijklmnop"


def app_url(arm: SimulatedContainerApps) -> str:
    return (f"{arm.arm.url}/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
            f"/providers/Microsoft.App/containerApps/{APP}?api-version=2026-07-01")


def app_body() -> dict[str, Any]:
    return inference_app_body(APP, API_KEY, ENVIRONMENT_ID, ENVIRONMENT_STORAGE, BASE_MODEL, paths.TRAINING_ADAPTER)


def test_a_request_without_a_token_is_401(simulated_container_apps: SimulatedContainerApps) -> None:
    reply = requests.get(app_url(simulated_container_apps), timeout=30)
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "AuthenticationFailed"


def test_a_storage_token_is_401_for_arm(simulated_container_apps: SimulatedContainerApps) -> None:
    token = default_credential().get_token("https://storage.azure.com/.default").token
    reply = requests.get(app_url(simulated_container_apps), headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "audience is https://storage.azure.com" in reply.json()["error"]["message"] and token not in reply.text


def test_an_expired_token_is_refused_and_appears_in_no_log_or_error(
    simulated_container_apps: SimulatedContainerApps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    apps = simulated_container_apps.apps()
    assert apps.is_provisioned(APP) is False
    simulated_container_apps.azure.tokens.expire_all()
    with pytest.raises(ClientAuthenticationError) as refused:
        apps.is_provisioned(APP)
    assert refused.value.status_code == 401 and "ExpiredAuthenticationToken" in str(refused.value)
    tokens = simulated_container_apps.azure.tokens.issued()
    exposed = [caplog.text, str(refused.value), repr(refused.value)]
    assert tokens and not [token for token in tokens if any(token in text for text in exposed)]


def test_a_property_the_api_version_does_not_define_is_400(simulated_container_apps: SimulatedContainerApps) -> None:
    body = app_body()
    body["properties"]["template"]["containers"][0]["gpuCount"] = 1
    client = container_apps_client(get_settings())
    with pytest.raises(HttpResponseError) as refused:
        client.container_apps.begin_create_or_update(RESOURCE_GROUP, APP, ContainerApp(body), polling=False)
    assert refused.value.status_code == 400 and "properties.template.containers[0].gpuCount" in str(refused.value)
    assert simulated_container_apps.service.apps == {}


def test_a_request_the_simulator_does_not_implement_is_an_error(
    simulated_container_apps: SimulatedContainerApps,
) -> None:
    client = container_apps_client(get_settings())
    with pytest.raises(HttpResponseError) as refused:
        list(client.container_apps.list_by_resource_group(RESOURCE_GROUP))
    assert refused.value.status_code == 400 and "NotSimulated" in str(refused.value)


def test_restarting_or_probing_an_app_that_does_not_exist_says_to_provision(
    simulated_container_apps: SimulatedContainerApps,
) -> None:
    apps = simulated_container_apps.apps()
    with pytest.raises(LookupError, match=f"container app '{APP}' is not in resource group '{RESOURCE_GROUP}'"):
        apps.restart(APP, BASE_MODEL, "v1")
    with pytest.raises(LookupError, match="provision it first"):
        apps.probe(APP, f"{APP}--v1")


def test_create_app_is_the_arm_deployment_not_this_host(simulated_container_apps: SimulatedContainerApps) -> None:
    with pytest.raises(NotImplementedError, match=r"ARM deployment of infra/provision/inference\.json"):
        simulated_container_apps.apps().create_app(APP, None)


def test_a_revision_whose_container_cannot_start_fails_with_the_reason(
    simulated_container_apps: SimulatedContainerApps,
) -> None:
    """No server code on the share: the container's working directory is missing, so no process ever starts."""
    client = container_apps_client(get_settings())
    poller = client.container_apps.begin_create_or_update(RESOURCE_GROUP, APP, ContainerApp(app_body()))
    poller.result()  # provisioning (what the ARM deployment waits for) succeeds: the platform made the revision
    created = client.container_apps.get(RESOURCE_GROUP, APP)
    assert created.properties is not None and created.properties.provisioning_state == "Succeeded"
    revision = str(created.properties.latest_revision_name)
    apps = simulated_container_apps.apps()
    probe = apps.probe(APP, revision)
    assert probe.failed and "the working directory /mount/inference does not exist" in probe.detail
    assert simulated_container_apps.service.runtime.pids() == []


def test_the_azure_target_is_built_from_settings_without_a_request(
    simulated_container_apps: SimulatedContainerApps,
) -> None:
    target = azure_target(get_settings())
    assert isinstance(target.share, AzureFileShare) and isinstance(target.apps, AzureApps)
    assert simulated_container_apps.arm.log == []


def test_missing_settings_name_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION_ID)
    monkeypatch.delenv("AZURE_RESOURCE_GROUP", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="set AZURE_RESOURCE_GROUP"):
            azure_apps(get_settings())
        monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
        get_settings.cache_clear()
        with pytest.raises(ValueError, match="set AZURE_SUBSCRIPTION_ID"):
            container_apps_client(get_settings())
    finally:
        get_settings.cache_clear()
