"""A deploy of an app registered on Azure, by HTTP or webhook, goes where the app lives (its subscription, resource
group, storage account and share from the registry), not where the app settings point: in-process starters with
a fake Durable client, against the simulated Files and ARM over HTTPS."""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from http_api.deploy import start_deploy
from http_api.webhooks import training_complete
from payloads.steps import DeploymentRecord
from service_settings import get_settings
from share_layout import paths
from share_layout.snapshots import REQUIRED_ADAPTER_FILE
from targets.azure.apps import AzureApps
from tests.function_app.durable_client import FakeDurableClient, Instance, Status, post
from tests.function_app.invoke import client_function
from tests.function_app.webhook_helpers import SECRET, body_bytes, deploys, signed_headers, webhook_request
from tests.simulators.simulated_azure import RESOURCE_GROUP, SUBSCRIPTION_ID, SimulatedContainerApps

pytest_plugins = ["tests.simulators.azure_fixtures"]

BASE_MODEL = "model-cache/org/base"
ADAPTER = "models/qlora/qlora/gpu_model/adapter"
GROUP, ACCOUNT, SHARE = "rg-other", "otheracct", "othershare"
PLACE = {"subscription_id": SUBSCRIPTION_ID, "resource_group": GROUP, "storage_account": ACCOUNT, "file_share": SHARE}


def register(client: FakeDurableClient, target: str = "azure") -> None:
    """The registry's `app_chat`, as provisioning or POST /api/apps leaves it."""
    config = {"app_name": "chat", "target": target, "registered_at": "2026-01-01T00:00:00Z", "source": "provision",
              "SUBSCRIPTION_ID": SUBSCRIPTION_ID, "RESOURCE_GROUP_NAME": GROUP, "STORAGE_ACCOUNT_NAME": ACCOUNT,
              "FILE_SHARE_NAME": SHARE, "ACA_APP_NAME": "chat", "ACA_APP_ENDPOINT": "https://chat.example"}
    client.instances["app_chat"] = Instance("app_chat", "register_app", config, Status.Completed, output=config)


def deploy(client: FakeDurableClient, **fields: Any) -> tuple[int, dict[str, Any]]:
    body = {"app_name": "chat", "base_model": BASE_MODEL, "adapter_source": ADAPTER, **fields}
    reply = asyncio.run(client_function(start_deploy)(post("deploy", body), client))
    return reply.status_code, json.loads(reply.get_body())


def fields_of(body: dict[str, Any]) -> dict[str, str]:
    return {item["field"]: item["message"] for item in body["error"]["fields"]}


@pytest.fixture
def app_share(simulated_container_apps: SimulatedContainerApps) -> Path:
    """The registered app's own account and share, holding the base model and the adapter (the settings' share
    holds neither)."""
    files_app = simulated_container_apps.azure.files_app
    files_app.add_account(ACCOUNT)
    files_app.ensure_share(ACCOUNT, SHARE)
    share = files_app.share_dir(SHARE, ACCOUNT)
    for relative in (f"{BASE_MODEL}/config.json", f"{ADAPTER}/{REQUIRED_ADAPTER_FILE}"):
        (share / relative).parent.mkdir(parents=True, exist_ok=True)
        (share / relative).write_text("{}")
    return share


def test_a_deploy_by_name_is_checked_on_the_registered_app_s_share_and_group(
    app_share: Path, simulated_container_apps: SimulatedContainerApps
) -> None:
    client = FakeDurableClient()
    register(client)
    for body_target in ({}, {"target": "azure"}):  # naming the registered target changes nothing
        status, body = deploy(client, **body_target)
        problems = fields_of(body)
        assert status == 400 and list(problems) == ["app_name"], body  # base model and adapter found there
        assert f"resource group '{GROUP}'" in problems["app_name"]

    unregistered = FakeDurableClient()  # an app never registered: the app settings' share and group
    status, body = deploy(unregistered, target="azure")
    assert status == 400 and set(fields_of(body)) == {"app_name", "base_model", "adapter_source"}
    assert f"resource group '{GROUP}'" not in fields_of(body)["app_name"]
    asked = [request.path for request in simulated_container_apps.arm.log]
    assert [path.split("/")[4] for path in asked] == [GROUP, GROUP, RESOURCE_GROUP]


@pytest.mark.parametrize(("registered", "body_target", "place"), [
    ("azure", None, PLACE), ("azure", "azure", PLACE), ("azure", "local", None), ("local", None, None)])
def test_the_deploy_job_carries_the_registered_azure_place_only_to_azure(
    monkeypatch: pytest.MonkeyPatch, registered: str, body_target: str | None, place: dict[str, str] | None
) -> None:
    checked: list[Any] = []

    def preflight(_request: Any, _settings: Any, where: Any) -> list[Any]:
        checked.append(where)  # no Azure here: what preflight was asked to look at
        return []

    monkeypatch.setattr("http_api.deploy.deploy_problems", preflight)
    client = FakeDurableClient()
    register(client, registered)
    status, body = deploy(client, **({"target": body_target} if body_target else {}))
    assert status == 202, body
    [event] = deploys(client)
    assert event.job.target == (body_target or registered)
    assert (event.job.azure.model_dump() if event.job.azure else None) == place
    assert checked == [event.job.azure]  # preflight looked where the deploy will go


def send_webhook(client: FakeDurableClient, **fields: Any) -> tuple[int, dict[str, Any]]:
    body = body_bytes(**fields)
    request = webhook_request(body, signed_headers(body, "msg_place"))
    reply = asyncio.run(client_function(training_complete)(request, client))
    return reply.status_code, json.loads(reply.get_body())


@pytest.fixture
def webhook_secret(monkeypatch: pytest.MonkeyPatch, simulated_container_apps: SimulatedContainerApps) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    get_settings.cache_clear()


def test_a_webhook_looks_for_the_registered_app_in_its_own_group(
    webhook_secret: None, simulated_container_apps: SimulatedContainerApps
) -> None:
    client = FakeDurableClient()
    register(client)
    mark = len(simulated_container_apps.arm.log)
    status, body = send_webhook(client, base_model=BASE_MODEL)
    assert status == 404 and "not known on target 'azure'" in body["error"]["message"], body
    [asked] = [request.path for request in simulated_container_apps.arm.log[mark:]]
    assert asked.startswith(f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{GROUP}/")


def test_a_webhook_deploy_reads_the_base_model_from_the_app_s_share_and_carries_its_place(
    webhook_secret: None, app_share: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AzureApps, "is_provisioned", lambda _self, _app: True)  # the app exists where registered
    record = DeploymentRecord(app_name="chat", endpoint="https://chat.example", revision="chat--1", version="v1",
                              base_model=BASE_MODEL, adapter_hash="0" * 64, code_hash="0" * 64,
                              deployed_at=datetime(2026, 1, 1, tzinfo=UTC))
    (app_share / paths.current_record("chat")).parent.mkdir(parents=True, exist_ok=True)
    (app_share / paths.current_record("chat")).write_text(record.model_dump_json())
    client = FakeDurableClient()
    register(client)
    status, body = send_webhook(client)  # no base_model: the one the app serves, from its own share
    assert status == 202, body
    [event] = deploys(client)
    assert event.job.base_model == BASE_MODEL and event.job.adapter_source == ADAPTER
    assert event.job.azure is not None and event.job.azure.model_dump() == PLACE
