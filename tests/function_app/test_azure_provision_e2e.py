"""Provision on Azure through the function app on the local host, against the simulated ARM, Container Apps and
Files over HTTPS: provision, provision again (nothing changes), deploy, provision again (still nothing changes: the
deployed adapter keeps serving, no new revision), a chat answer; a quota failure reads well; no secret in any
status, output or log."""

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from devtools.devhost.process import HostProcess
from devtools.tiny_model import TinyModelPaths
from service_settings import FUNCTION_APP_ROOT
from share_layout import paths
from share_layout.manifest import manifest_of_directory
from targets.azure.arm.template import API_KEY_SECRET
from tests.function_app.azure_host import run, simulated_azure_host
from tests.simulators.azure_files import DEFAULT_ACCOUNT
from tests.simulators.faults import FaultPlan
from tests.simulators.simulated_azure import ENVIRONMENT_NAME, ENVIRONMENT_STORAGE, RESOURCE_GROUP, SimulatedArm

pytest_plugins = ["tests.simulators.azure_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

APP = "chat-e2e"
BASE_MODEL = "model-cache/local/tiny-chat"
PROVISION = {"target": "azure", "app_name": APP, "storage_account_name": DEFAULT_ACCOUNT,
             "environment_name": ENVIRONMENT_NAME, "environment_storage_name": ENVIRONMENT_STORAGE,
             "base_model_path": BASE_MODEL}
"""Into the fine-tuning group: its account, share and environment are reused, only the app is written."""


@pytest.fixture
def arm(simulated_arm: SimulatedArm, tiny_share: TinyModelPaths) -> SimulatedArm:
    """The simulators with the tiny model on the fine-tuning share."""
    shutil.copytree(tiny_share.share_dir, simulated_arm.container_apps.azure.share_dir, dirs_exist_ok=True)
    return simulated_arm


@pytest.fixture
def host(arm: SimulatedArm, simulated_azure_env: dict[str, str], tmp_path: Path) -> Iterator[HostProcess]:
    """The function app on devhost, its settings pointing at the simulators."""
    with simulated_azure_host(simulated_azure_env, tmp_path) as process:
        yield process


def test_provision_again_deploy_provision_again_keeps_serving_the_deploy_and_leaks_no_secret(
    arm: SimulatedArm, host: HostProcess
) -> None:
    seen: list[str] = []
    provisioned = run(host, "provision", PROVISION, seen)
    assert provisioned["runtimeStatus"] == "Completed", provisioned
    outputs = provisioned["output"]
    assert outputs["ACA_APP_NAME"] == APP and outputs["RESOURCE_GROUP_NAME"] == RESOURCE_GROUP
    assert outputs["STORAGE_ACCOUNT_NAME"] == DEFAULT_ACCOUNT and outputs["FILE_SHARE_NAME"] == "aifileshare"
    assert any('"wait_deployment"' in text and "resources done" in text for text in seen)
    assert [(change.action, change.resource_id.rsplit("/", 2)[-2]) for change in arm.changes] == [
        ("Create", "containerApps")]

    mark = len(arm.changes)
    again = run(host, "provision", PROVISION, seen)
    assert again["runtimeStatus"] == "Completed" and again["output"] == outputs
    assert {change.action for change in arm.changes[mark:]} == {"Update"}  # nothing created twice

    deployed = run(host, "deploy", {"target": "azure", "app_name": APP, "base_model": BASE_MODEL}, seen)
    assert deployed["runtimeStatus"] == "Completed", deployed.get("output")
    record = arm.container_apps.record(APP)
    revisions, serving = list(record.revisions), deployed["output"]["revision"]
    generation = record.revisions[serving].generation

    mark = len(arm.changes)
    after_deploy = run(host, "provision", PROVISION, seen)  # "just to be sure": it must not undo the deploy
    assert after_deploy["runtimeStatus"] == "Completed" and after_deploy["output"] == outputs
    assert {change.action for change in arm.changes[mark:]} == {"Update"}
    assert list(record.revisions) == revisions and record.latest_revision == serving  # no new revision
    assert record.revisions[serving].generation == generation  # not restarted either

    api_key = record.secrets()[API_KEY_SECRET]
    client = OpenAI(base_url=f"{deployed['output']['endpoint']}/v1", api_key=api_key, max_retries=2, timeout=120)
    adapter = client.models.list().data[-1]
    assert adapter.model_dump()["root"] == deployed["output"]["version"]  # still the deployed adapter
    model = adapter.id
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello"}],
                                           temperature=0, max_tokens=4, extra_body={"ignore_eos": True})
    assert reply.usage is not None and reply.usage.completion_tokens == 4

    secrets = [api_key, *arm.container_apps.azure.tokens.issued()]
    exposed = [*seen, host.logs()]
    assert not [secret for secret in secrets if any(secret in text for text in exposed)]


def test_a_quota_failure_ends_the_provision_with_what_failed_and_what_to_do(arm: SimulatedArm,
                                                                            host: HostProcess) -> None:
    arm.set_gpu_quota(0)
    seen: list[str] = []
    failed = run(host, "provision", PROVISION, seen)
    assert failed["runtimeStatus"] == "Failed", failed
    error = str(failed.get("error") or failed.get("output"))
    assert "step 'wait_deployment' failed" in error
    assert f"Microsoft.App/containerApps '{APP}' failed: MaxRegionalQuotaExceeded" in error
    assert "request more quota" in error and "Traceback" not in error and ".py" not in error


def test_with_a_fifth_of_requests_failing_provision_and_deploy_succeed_and_nothing_is_done_twice(
    arm: SimulatedArm, host: HostProcess
) -> None:
    files = arm.container_apps.azure.files
    arm.set_faults(FaultPlan(rate=0.2, kinds=("throttle", "busy", "drop"), seed=7))
    files.faults = FaultPlan(rate=0.2, kinds=("busy", "drop"), seed=11)  # Azure Storage throttles with 503
    seen: list[str] = []
    provisioned = run(host, "provision", PROVISION, seen)
    assert provisioned["runtimeStatus"] == "Completed", provisioned
    deployed = run(host, "deploy", {"target": "azure", "app_name": APP, "base_model": BASE_MODEL}, seen)
    assert deployed["runtimeStatus"] == "Completed", deployed.get("error")
    arm.set_faults(None)
    files.faults = None

    assert [change.action for change in arm.changes] == ["Create"]  # the app, once
    puts = [request for request in arm.log if request.operation == "CreateOrUpdateDeployment"]
    assert len([request for request in puts if request.status == 201]) == 1
    created = Counter(request.path for request in files.log if request.operation == "CreateFile"
                      and request.status == 201)
    assert [path for path, count in created.items() if count > 1] == []
    code = arm.container_apps.azure.share_dir / paths.INFERENCE_CODE / "inference_container"
    assert manifest_of_directory(code) == manifest_of_directory(FUNCTION_APP_ROOT / "inference_container")
    secrets = [arm.container_apps.record(APP).secrets()[API_KEY_SECRET], *arm.container_apps.azure.tokens.issued()]
    assert not [secret for secret in secrets if any(secret in text for text in [*seen, host.logs()])]
