"""Provision an app into its own resource group, storage account and share (none of them the app settings'), then
deploy it by name, by HTTP and by training webhook: each deploy goes where the registry says the app lives, through
the function app on the local host against the simulated ARM, Container Apps and Files; the app settings' share is
left as it was."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from devtools.devhost.process import HostProcess
from devtools.tiny_model import TinyModelPaths
from service_settings import FUNCTION_APP_ROOT
from share_layout import paths
from share_layout.manifest import manifest_of_directory
from targets.azure.arm.template import API_KEY_SECRET
from tests.function_app.azure_host import run, simulated_azure_host
from tests.function_app.host import HTTP_TIMEOUT
from tests.function_app.test_azure_deploy import poll_until_done
from tests.function_app.webhook_helpers import ROUTE, SECRET, body_bytes, signed_headers
from tests.simulators.simulated_azure import LOCATION, RESOURCE_GROUP, SimulatedArm

pytest_plugins = ["tests.simulators.azure_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

APP = "chat-placed"
BASE_MODEL = "model-cache/local/tiny-chat"
GROUP, ACCOUNT, SHARE = "rg-inference-placed", "placedstore01", "placedshare"
PROVISION = {"target": "azure", "app_name": APP, "resource_group": GROUP, "location": LOCATION,
             "storage_account_name": ACCOUNT, "file_share_name": SHARE, "environment_name": "placedenv",
             "environment_storage_name": "placedstorage", "base_model_path": BASE_MODEL,
             "resources_to_create": ["storageAccount", "fileShare", "logAnalytics", "environment",
                                     "environmentStorage"]}
"""A new group with its own account, share and environment: nothing of it is in the app settings."""


@pytest.fixture
def arm(simulated_arm: SimulatedArm, tiny_share: TinyModelPaths) -> SimulatedArm:
    """The simulators, the tiny model on the app settings' share (a deploy sent there would find it too)."""
    shutil.copytree(tiny_share.share_dir, simulated_arm.container_apps.azure.share_dir, dirs_exist_ok=True)
    return simulated_arm


@pytest.fixture
def host(arm: SimulatedArm, simulated_azure_env: dict[str, str], tmp_path: Path) -> Iterator[HostProcess]:
    """The function app on devhost; its Azure settings name the fine-tuning group, account and share."""
    with simulated_azure_host(simulated_azure_env, tmp_path, WEBHOOK_SECRET=SECRET) as process:
        yield process


def test_a_deploy_by_name_serves_from_the_share_the_app_was_provisioned_with(
    arm: SimulatedArm, host: HostProcess, tiny_share: TinyModelPaths
) -> None:
    seen: list[str] = []
    provisioned = run(host, "provision", PROVISION, seen)
    assert provisioned["runtimeStatus"] == "Completed", provisioned
    outputs = provisioned["output"]
    assert (outputs["RESOURCE_GROUP_NAME"], outputs["STORAGE_ACCOUNT_NAME"], outputs["FILE_SHARE_NAME"]) == (
        GROUP, ACCOUNT, SHARE)
    app_share = arm.share_dir(ACCOUNT, SHARE)
    shutil.copytree(tiny_share.share_dir, app_share, dirs_exist_ok=True)  # fine-tuning wrote its model there
    settings_share = arm.container_apps.azure.share_dir
    untouched = manifest_of_directory(settings_share)

    deployed = run(host, "deploy", {"app_name": APP, "base_model": BASE_MODEL}, seen)
    assert deployed["runtimeStatus"] == "Completed", deployed.get("output")
    output = deployed["output"]
    record = arm.container_apps.service.apps[(GROUP.lower(), APP)]
    assert output["endpoint"] == record.fqdn and output["revision"].startswith(f"{APP}--")
    client = OpenAI(base_url=f"{output['endpoint']}/v1", api_key=record.secrets()[API_KEY_SECRET], max_retries=2,
                    timeout=120)
    reply = client.chat.completions.create(model=client.models.list().data[-1].id, temperature=0, max_tokens=2,
                                           messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content is not None

    body = body_bytes(app_name=APP)  # no base_model: the one the app serves, read from its own share's record
    accepted = httpx.post(host.url(f"/api/{ROUTE}"), content=body, timeout=HTTP_TIMEOUT,
                          headers=signed_headers(body, "msg_placed") | {"content-type": "application/json"})
    assert accepted.status_code == 202, accepted.text
    redeployed = poll_until_done(host, accepted.json()["id"], seen)
    assert redeployed["runtimeStatus"] == "Completed", redeployed.get("output")
    assert redeployed["output"]["base_model"] == BASE_MODEL and redeployed["output"]["endpoint"] == record.fqdn
    # the same adapter again: the serving revision swaps it in place from its own share (no new revision)
    assert redeployed["output"]["strategy"] == "swap", redeployed["customStatus"]
    assert (redeployed["output"]["revision"], redeployed["output"]["version"]) == (output["revision"],
                                                                                  output["version"])

    code = app_share / paths.INFERENCE_CODE / "inference_container"
    assert manifest_of_directory(code) == manifest_of_directory(FUNCTION_APP_ROOT / "inference_container")
    assert (app_share / paths.current_record(APP)).is_file()
    assert manifest_of_directory(settings_share) == untouched
    assert not (settings_share / paths.INFERENCE_CODE).exists()
    assert RESOURCE_GROUP != GROUP and (RESOURCE_GROUP.lower(), APP) not in arm.container_apps.service.apps
