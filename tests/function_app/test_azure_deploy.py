"""Deploy with target "azure" through the function app on the local host, against simulated Azure over HTTPS.

The app is created in the Container Apps simulator as infra/provision/inference.json declares it (provisioning on
Azure is by hand for now), the tiny model is on the simulated share, and the host reaches the simulators with the
production credential path (App Service managed identity) and the real SDK clients.
"""

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.mgmt.appcontainers.models import ContainerApp
from openai import OpenAI

from devtools.devhost.process import HostProcess
from devtools.tiny_model import TinyModelPaths
from service_settings import FUNCTION_APP_ROOT, get_settings
from share_layout import paths
from targets.azure.clients import container_apps_client
from tests.function_app.host import HTTP_TIMEOUT, TERMINAL, start
from tests.simulators.container_apps.inference_app import API_KEY_SECRET, inference_app_body
from tests.simulators.simulated_azure import (
    ENVIRONMENT_ID,
    ENVIRONMENT_STORAGE,
    RESOURCE_GROUP,
    SHARE_NAME,
    UPLOADS,
    SimulatedContainerApps,
    Traffic,
)

pytest_plugins = ["tests.simulators.azure_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

APP = "aiacaappe2e01"
BASE_MODEL = "model-cache/local/tiny-chat"
API_KEY = "sk-simulated-e2e-0123456789abcdefghijkl"
ADMIN_KEY = "admin-simulated-e2e-0123456789abcdefghij"
DEPLOY_TIMEOUT_S = 600.0
"""A deploy on the simulators takes a minute or two; a busy 2-core machine may take several."""


def create_app_as_the_template_does() -> None:
    """PUT the app as infra/provision/inference.json declares it; not waited for (no server code on the share yet)."""
    body = inference_app_body(APP, API_KEY, ENVIRONMENT_ID, ENVIRONMENT_STORAGE, BASE_MODEL, paths.TRAINING_ADAPTER,
                              admin_key=ADMIN_KEY)
    container_apps_client(get_settings()).container_apps.begin_create_or_update(
        RESOURCE_GROUP, APP, ContainerApp(body), polling=False)


def poll_until_done(host: HostProcess, instance_id: str, seen: list[str], timeout: float = DEPLOY_TIMEOUT_S
                    ) -> dict[str, Any]:
    """GET /api/status until the instance ends, keeping every body read in `seen`."""
    deadline = time.monotonic() + timeout
    while True:
        reply = httpx.get(host.url(f"/api/status/{instance_id}"), params={"code": host.key}, timeout=HTTP_TIMEOUT)
        seen.append(reply.text)
        reply.raise_for_status()
        body: dict[str, Any] = reply.json()
        if body["runtimeStatus"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"{instance_id} still {body['runtimeStatus']} after {timeout} s: {body}"
        time.sleep(0.5)


@pytest.fixture
def azure(simulated_container_apps: SimulatedContainerApps, tiny_share: TinyModelPaths
          ) -> Iterator[SimulatedContainerApps]:
    """The simulators with the tiny model on the share and the app created; their runtime must meet no error."""
    shutil.copytree(tiny_share.share_dir, simulated_container_apps.azure.share_dir, dirs_exist_ok=True)
    create_app_as_the_template_does()
    yield simulated_container_apps
    assert simulated_container_apps.service.runtime.errors == []


@pytest.fixture
def host(azure: SimulatedContainerApps, simulated_azure_env: dict[str, str], tmp_path: Path
         ) -> Iterator[HostProcess]:
    """The function app on devhost, configured by app settings that point at the simulators."""
    env = {**simulated_azure_env, "LOCAL_TARGET_ROOT": str(tmp_path / "local"), "READINESS_POLL_SECONDS": "1"}
    with HostProcess(FUNCTION_APP_ROOT, tmp_path / "devhost", function_key="test-key", env=env,
                     startup_timeout=120) as process:
        yield process


def synced_bytes(traffic: Traffic) -> int:
    """Bytes a deploy uploaded besides its deployment record (server code, adapter snapshot)."""
    record_dir = f"/{SHARE_NAME}/{paths.current_record(APP).rsplit('/', 1)[0]}/"
    return sum(request.bytes_in for request in traffic.requests
               if request.operation in UPLOADS and record_dir not in request.path)


def deploy(host: HostProcess, seen: list[str]) -> tuple[dict[str, Any], float]:
    """POST /api/deploy to the Azure target and wait for the end; the final status and the seconds it took."""
    began = time.monotonic()
    reply = start(host, "deploy", {"target": "azure", "app_name": APP, "base_model": BASE_MODEL})
    seen.append(reply.text)
    assert reply.status_code == 202, reply.text
    return poll_until_done(host, reply.json()["id"], seen), time.monotonic() - began


def test_a_deploy_to_azure_serves_the_model_and_a_redeploy_with_nothing_changed_uploads_nothing(
    azure: SimulatedContainerApps, host: HostProcess
) -> None:
    seen: list[str] = []
    files_mark, arm_mark = len(azure.azure.files.log), len(azure.arm.log)
    first, first_s = deploy(host, seen)
    assert first["runtimeStatus"] == "Completed", first
    output = first["output"]
    assert output["endpoint"] == azure.record(APP).fqdn and output["revision"].startswith(f"{APP}--")
    first_files, first_arm = azure.azure.traffic_since(files_mark), azure.operations_since(arm_mark)
    assert synced_bytes(first_files) > 0

    api_key = azure.record(APP).secrets()[API_KEY_SECRET]
    client = OpenAI(base_url=f"{output['endpoint']}/v1", api_key=api_key, max_retries=2, timeout=120)
    served = [model.id for model in client.models.list()]
    reply = client.chat.completions.create(model=served[-1], messages=[{"role": "user", "content": "hello"}],
                                           temperature=0, max_tokens=4, extra_body={"ignore_eos": True})
    assert reply.usage is not None and reply.usage.completion_tokens == 4 and reply.choices[0].message.content

    files_mark, arm_mark = len(azure.azure.files.log), len(azure.arm.log)
    second, second_s = deploy(host, seen)
    assert second["runtimeStatus"] == "Completed", second
    second_files, second_arm = azure.azure.traffic_since(files_mark), azure.operations_since(arm_mark)
    assert synced_bytes(second_files) == 0, second_files.operations  # only the deployment record is written
    assert "DeleteFile" not in second_files.operations  # bytecode the server wrote on the share is not "extra"
    # nothing changed: the serving revision swaps its adapter in place; no new revision, no restart
    assert second["output"]["strategy"] == "swap", second["customStatus"]
    assert second["output"]["revision"] == output["revision"] and second["output"]["version"] == output["version"]
    assert not {"UpdateContainerApp", "RestartRevision"} & set(second_arm), second_arm
    assert output["version"] in [model.id for model in client.models.list()]

    print(f"first deploy {first_s:.1f} s: files {dict(first_files.operations)} "
          f"{first_files.bytes_uploaded} bytes up ({synced_bytes(first_files)} synced); arm {dict(first_arm)}")
    print(f"no-change redeploy {second_s:.1f} s: files {dict(second_files.operations)} "
          f"{second_files.bytes_uploaded} bytes up ({synced_bytes(second_files)} synced); arm {dict(second_arm)}")
    secrets = [api_key, ADMIN_KEY, *azure.azure.tokens.issued()]
    assert len(secrets) > 1
    exposed = [*seen, host.logs()]
    assert not [secret for secret in secrets if any(secret in text for text in exposed)]


def test_a_deploy_to_azure_is_checked_against_azure_before_anything_starts(
    azure: SimulatedContainerApps, host: HostProcess
) -> None:
    arm_mark = len(azure.arm.log)
    unknown_app = start(host, "deploy", {"target": "azure", "app_name": "never-provisioned", "base_model": BASE_MODEL})
    assert unknown_app.status_code == 400, unknown_app.text
    assert [item["field"] for item in unknown_app.json()["error"]["fields"]] == ["app_name"]
    assert "infra/provision/inference.json" in unknown_app.json()["error"]["message"]

    nothing_there = start(host, "deploy", {"target": "azure", "app_name": APP, "base_model": "model-cache/none/x",
                                           "adapter_source": "models/none"})
    assert nothing_there.status_code == 400, nothing_there.text
    assert [item["field"] for item in nothing_there.json()["error"]["fields"]] == ["base_model", "adapter_source"]

    provision = start(host, "provision", {"target": "azure", "app_name": APP, "gpu_profile_type": "NC96-H100"})
    assert provision.status_code == 400 and provision.json()["error"]["fields"][0]["field"] == "gpu_profile_type"
    assert "UpdateContainerApp" not in azure.operations_since(arm_mark)
    listed = httpx.get(host.url("/runtime/webhooks/durabletask/instances"), params={"code": host.key},
                       timeout=HTTP_TIMEOUT)
    assert listed.json() == []
