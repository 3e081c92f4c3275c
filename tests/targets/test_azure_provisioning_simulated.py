"""Provisioning on Azure against the simulated ARM: the real SDK clients over HTTPS, the committed template deployed
for real into the Files and Container Apps simulators."""

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payloads.steps import DeploymentStatus, StartDeploymentInput
from service_settings import get_settings
from targets.azure.apps import AzureApps
from targets.azure.arm.deployments import ArmProvisioning, DeploymentBusy, DeploymentRefused
from targets.azure.arm.template import API_KEY_SECRET, parameter_file_values
from targets.azure.clients import container_apps_client
from tests.simulators.container_apps.resources import AppRecord
from tests.simulators.simulated_azure import LOCATION, SUBSCRIPTION_ID, SimulatedArm

pytest_plugins = ["tests.simulators.azure_fixtures"]

GROUP = "rg-inference-new"
ALL = ["storageAccount", "fileShare", "logAnalytics", "environment", "environmentStorage"]
TIMEOUT_S = 120.0


@pytest.fixture
def arm(simulated_arm: SimulatedArm) -> Iterator[ArmProvisioning]:
    """Provisioning's ARM calls, built from settings that point at the simulator."""
    yield ArmProvisioning(get_settings(), SUBSCRIPTION_ID)


def step(run_id: str | None = None, asked: datetime | None = None, **parameters: Any) -> StartDeploymentInput:
    """This run's start: `asked` is when the orchestration asked for it (ARM's timestamps are whole seconds)."""
    values = {**parameter_file_values(), "containerImage": "cr.example.io/inference:1", "acaAppName": "chat",
              "resourcesToCreate": ALL, **parameters}
    return StartDeploymentInput(subscription_id=SUBSCRIPTION_ID, resource_group=GROUP, deployment_name="inference-chat",
                                app_name="chat", run_id=run_id or uuid.uuid4().hex,
                                requested_at=asked or datetime.now(UTC) - timedelta(seconds=2), parameters=values)


def until_ended(arm: ArmProvisioning, start: StartDeploymentInput) -> DeploymentStatus:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        status = arm.read(start)
        if status.ended:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def api_key(simulated_arm: SimulatedArm) -> str:
    return simulated_arm.container_apps.service.apps[(GROUP.lower(), "chat")].secrets()[API_KEY_SECRET]


def test_a_missing_group_needs_a_location_then_is_created_once(arm: ArmProvisioning) -> None:
    with pytest.raises(ValueError, match="send location"):
        arm.ensure_group(GROUP, None)
    assert arm.ensure_group(GROUP, LOCATION).created is True
    again = arm.ensure_group(GROUP, "westus3")  # an existing group is never moved
    assert again.created is False and again.location == LOCATION


def test_a_new_group_gets_every_resource_once_and_a_rerun_changes_nothing(arm: ArmProvisioning,
                                                                          simulated_arm: SimulatedArm) -> None:
    arm.ensure_group(GROUP, LOCATION)
    first = step()
    assert arm.start(first).state in ("Accepted", "Running")
    status = until_ended(arm, first)
    assert status.state == "Succeeded", status.failure
    assert status.outputs["ACA_APP_NAME"] == "chat" and status.outputs["RESOURCE_GROUP_NAME"] == GROUP
    assert status.outputs["ACA_APP_ENDPOINT"].startswith(("https://", "http://")) and len(status.outputs) == 6
    assert {resource.state for resource in status.resources} == {"Succeeded"}
    key = api_key(simulated_arm)
    assert len(key) >= 40 and key not in status.model_dump_json()
    assert set(Counter(change.action for change in simulated_arm.changes)) == {"Create"}

    mark = len(simulated_arm.changes)
    rerun = step(asked=datetime.now(UTC))  # a new provision, asked for after the first ended
    assert arm.start(rerun).adopted is False
    assert until_ended(arm, rerun).outputs == status.outputs
    assert {change.action for change in simulated_arm.changes[mark:]} == {"Update"}
    assert api_key(simulated_arm) == key  # the app keeps its key: clients keep working


def test_a_retried_start_adopts_its_own_deployment_instead_of_putting_again(arm: ArmProvisioning,
                                                                           simulated_arm: SimulatedArm) -> None:
    arm.ensure_group(GROUP, LOCATION)
    first = step("run-1")
    mark = len(simulated_arm.log)
    arm.start(first)
    assert arm.start(first).adopted is True
    assert simulated_arm.operations_since(mark)["CreateOrUpdateDeployment"] == 1
    assert until_ended(arm, first).state == "Succeeded"


def test_another_run_s_deployment_still_going_is_left_alone(arm: ArmProvisioning) -> None:
    arm.ensure_group(GROUP, LOCATION)
    arm.start(step("run-1"))
    with pytest.raises(DeploymentBusy, match="still"):
        arm.start(step("run-2", maxBatchSize=8))


def test_a_quota_failure_names_the_app_the_code_and_what_to_do(arm: ArmProvisioning,
                                                               simulated_arm: SimulatedArm) -> None:
    arm.ensure_group(GROUP, LOCATION)
    simulated_arm.set_gpu_quota(0)
    start = step()
    arm.start(start)
    status = until_ended(arm, start)
    assert status.state == "Failed" and status.failure is not None
    assert "Microsoft.App/containerApps 'chat' failed: MaxRegionalQuotaExceeded" in status.failure
    assert "request more quota" in status.failure


def test_a_storage_name_taken_elsewhere_says_to_choose_another(arm: ArmProvisioning,
                                                               simulated_arm: SimulatedArm) -> None:
    arm.ensure_group(GROUP, LOCATION)
    simulated_arm.take_storage_name("takenname")
    start = step(storageAccountName="takenname")
    try:
        arm.start(start)
        failure = until_ended(arm, start).failure or ""
    except DeploymentRefused as refused:
        failure = str(refused)
    assert "StorageAccountAlreadyTaken" in failure and "choose another storage_account_name" in failure


def test_the_api_key_setting_is_the_key_the_app_gets_and_is_never_returned(
    arm: ArmProvisioning, simulated_arm: SimulatedArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_INFERENCE_API_KEY", "sk-from-the-key-vault-0123456789abcdef")
    get_settings.cache_clear()
    arm = ArmProvisioning(get_settings(), SUBSCRIPTION_ID)
    arm.ensure_group(GROUP, LOCATION)
    start = step()
    started = arm.start(start)
    status = until_ended(arm, start)
    assert api_key(simulated_arm) == "sk-from-the-key-vault-0123456789abcdef"
    exposed = json.dumps([started.model_dump(), status.model_dump()])
    assert "sk-from-the-key-vault" not in exposed


def app_record(simulated_arm: SimulatedArm) -> AppRecord:
    return simulated_arm.container_apps.service.apps[(GROUP.lower(), "chat")]


def test_provisioning_again_after_a_deploy_starts_no_revision_unless_asked_to(arm: ArmProvisioning,
                                                                               simulated_arm: SimulatedArm) -> None:
    arm.ensure_group(GROUP, LOCATION)
    first = step()
    arm.start(first)
    assert until_ended(arm, first).state == "Succeeded"
    apps = AzureApps(container_apps_client(get_settings()), GROUP)
    deployed = apps.restart("chat", "model-cache/org/model", "v2").revision  # a deploy: new paths, new suffix
    record = app_record(simulated_arm)
    revisions, serving = list(record.revisions), record.template["containers"][0]["env"]
    assert record.latest_revision == deployed

    mark = len(simulated_arm.changes)
    again = step(asked=datetime.now(UTC))
    arm.start(again)
    assert until_ended(arm, again).state == "Succeeded"
    assert {change.action for change in simulated_arm.changes[mark:]} == {"Update"}
    assert list(record.revisions) == revisions and record.latest_revision == deployed  # no new revision
    assert record.template["containers"][0]["env"] == serving

    image = step(asked=datetime.now(UTC), containerImage="cr.example.io/inference:2")
    image.requested_parameters = ["containerImage"]
    arm.start(image)
    assert until_ended(arm, image).state == "Succeeded"
    assert len(record.revisions) == len(revisions) + 1 and record.latest_revision != deployed  # as asked
    assert record.template["containers"][0]["image"] == "cr.example.io/inference:2"
    assert record.template["containers"][0]["env"] == serving  # still what the deploy set
