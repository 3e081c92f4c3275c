"""The simulated ARM deploys the committed template for real, driven by the real SDK clients over HTTPS."""

import json
from collections import Counter

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError

from tests.simulators.arm.testing import API_KEY, IMAGE, deploy, parameters, resource_clients, suffix
from tests.simulators.simulated_azure import LOCATION, SUBSCRIPTION_ID, SimulatedArm

pytest_plugins = ["tests.simulators.azure_fixtures"]

CONFIG_KEYS = {"SUBSCRIPTION_ID", "RESOURCE_GROUP_NAME", "STORAGE_ACCOUNT_NAME", "FILE_SHARE_NAME", "ACA_APP_NAME",
               "ACA_APP_ENDPOINT"}
GROUP = "rg-Inference-Demo"
SFX = suffix(SUBSCRIPTION_ID, GROUP)
ACCOUNT, SHARE, APP = f"aistorage{SFX}", f"aifileshare{SFX}", f"aiacaapp{SFX}"
TYPES = {"Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/fileServices",
         "Microsoft.Storage/storageAccounts/fileServices/shares", "Microsoft.OperationalInsights/workspaces",
         "Microsoft.App/managedEnvironments", "Microsoft.App/managedEnvironments/storages",
         "Microsoft.App/containerApps"}


@pytest.fixture
def arm(simulated_arm: SimulatedArm) -> SimulatedArm:
    """The simulated ARM with the deployment's resource group created."""
    groups, _ = resource_clients(simulated_arm.url, SUBSCRIPTION_ID)
    groups.resource_groups.create_or_update(GROUP, {"location": LOCATION})
    return simulated_arm


def test_resource_groups_are_created_once_found_case_insensitively_and_checked(simulated_arm: SimulatedArm) -> None:
    groups, _ = resource_clients(simulated_arm.url, SUBSCRIPTION_ID)
    assert groups.resource_groups.check_existence("rg-new") is False
    created = groups.resource_groups.create_or_update("rg-New", {"location": LOCATION, "tags": {"app": "x"}})
    assert created.id == f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-New"
    again = groups.resource_groups.create_or_update("RG-NEW", {"location": LOCATION})
    assert again.name == "rg-New" and groups.resource_groups.check_existence("rg-new") is True
    assert groups.resource_groups.get("rg-new").location == LOCATION
    with pytest.raises(ResourceNotFoundError):
        groups.resource_groups.get("rg-missing")
    statuses = [request.status for request in simulated_arm.log if request.operation == "CreateOrUpdateResourceGroup"]
    assert statuses == [201, 200]


def test_the_committed_template_deploys_every_resource_into_the_simulators(arm: SimulatedArm) -> None:
    _, deployments = resource_clients(arm.url, SUBSCRIPTION_ID)
    result = deploy(deployments, GROUP, "inference-1")
    properties = result.properties
    assert properties is not None and properties.provisioning_state == "Succeeded"
    outputs = {name: output["value"] for name, output in (properties.outputs or {}).items()}
    assert set(outputs) == CONFIG_KEYS
    assert outputs["SUBSCRIPTION_ID"] == SUBSCRIPTION_ID and outputs["RESOURCE_GROUP_NAME"] == GROUP
    names = (outputs["STORAGE_ACCOUNT_NAME"], outputs["FILE_SHARE_NAME"], outputs["ACA_APP_NAME"])
    assert names == (ACCOUNT, SHARE, APP)
    service = arm.container_apps.service
    app = service.apps[(GROUP.lower(), APP)]
    assert outputs["ACA_APP_ENDPOINT"] == app.fqdn
    assert app.template["containers"][0]["image"] == IMAGE
    environment = service.environments[(GROUP.lower(), f"aienv{SFX}")]
    assert environment.mounts() == {f"aienvstorage{SFX}": arm.share_dir(ACCOUNT, SHARE)}
    assert arm.share_dir(ACCOUNT, SHARE).is_dir()
    assert properties.parameters is not None and "value" not in properties.parameters["apiKey"]
    operations = list(deployments.deployment_operations.list(GROUP, "inference-1"))
    assert {op.properties.target_resource.resource_type for op in operations if op.properties
            and op.properties.target_resource} == TYPES
    assert {op.properties.provisioning_state for op in operations if op.properties} == {"Succeeded"}
    assert API_KEY not in json.dumps(result.as_dict())
    assert Counter(change.action for change in arm.changes) == Counter({"Create": len(TYPES)})


def test_a_second_deploy_of_the_same_inputs_changes_nothing(arm: SimulatedArm) -> None:
    _, deployments = resource_clients(arm.url, SUBSCRIPTION_ID)
    deploy(deployments, GROUP, "inference-1")
    app = arm.container_apps.service.apps[(GROUP.lower(), APP)]
    revision = app.latest_revision
    (arm.share_dir(ACCOUNT, SHARE) / "kept.txt").write_text("synced earlier")
    mark = len(arm.changes)
    again = deploy(deployments, GROUP, "inference-1")
    assert again.properties is not None and again.properties.provisioning_state == "Succeeded"
    assert {change.action for change in arm.changes[mark:]} == {"Update"}
    assert app.latest_revision == revision and list(app.revisions) == [revision]
    assert (arm.share_dir(ACCOUNT, SHARE) / "kept.txt").read_text() == "synced earlier"


def test_the_committed_parameters_reuse_the_finetuning_resources_and_write_only_the_app(arm: SimulatedArm) -> None:
    _, deployments = resource_clients(arm.url, SUBSCRIPTION_ID)
    deploy(deployments, GROUP, "finetuning-like")
    mark = len(arm.changes)
    result = deploy(deployments, GROUP, "inference", parameter_values=parameters(resourcesToCreate=[]))
    assert result.properties is not None and result.properties.provisioning_state == "Succeeded"
    assert [(change.action, change.resource_id.rsplit("/", 2)[-2]) for change in arm.changes[mark:]] == [
        ("Update", "containerApps")]


def test_a_request_without_an_arm_token_is_401(simulated_arm: SimulatedArm) -> None:
    url = f"{simulated_arm.url}/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/rg-x?api-version=2025-04-01"
    reply = requests.put(url, json={"location": LOCATION}, timeout=30)
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "AuthenticationFailed"
    assert simulated_arm.app.groups.get("rg-x") is None
