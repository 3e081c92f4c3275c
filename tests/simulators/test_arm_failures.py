"""What the simulated ARM refuses before a deployment starts, and deployments that fail, as the real SDK sees them."""

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.deployments import DeploymentsMgmtClient

from tests.simulators.arm.testing import deploy, parameters, resource_clients, suffix, template
from tests.simulators.simulated_azure import LOCATION, SUBSCRIPTION_ID, SimulatedArm

pytest_plugins = ["tests.simulators.azure_fixtures"]

GROUP = "rg-inference-failures"
SFX = suffix(SUBSCRIPTION_ID, GROUP)


@pytest.fixture
def deployments(simulated_arm: SimulatedArm) -> DeploymentsMgmtClient:
    """A deployments client, the resource group created."""
    groups, client = resource_clients(simulated_arm.url, SUBSCRIPTION_ID)
    groups.resource_groups.create_or_update(GROUP, {"location": LOCATION})
    return client


def failed(client: DeploymentsMgmtClient, name: str, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Deploy expecting failure: the deployment's error, and {resource type: operation error} of failed operations."""
    with pytest.raises(HttpResponseError) as raised:
        deploy(client, GROUP, name, **kwargs)
    assert "DeploymentFailed" in str(raised.value)
    deployment = client.deployments.get(GROUP, name).as_dict()
    assert deployment["properties"]["provisioningState"] == "Failed"
    listed = [op.as_dict()["properties"] for op in client.deployment_operations.list(GROUP, name)]
    operations = {op["targetResource"]["resourceType"]: op["statusMessage"]["error"]
                  for op in listed if op["provisioningState"] == "Failed"}
    return deployment["properties"]["error"], operations


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"surprise": 1}, "The template parameters 'surprise' in the parameters file are not valid"),
    ({"apiKey": None}, "The value for the template parameter 'apiKey' is not provided"),
    ({"maximumInstanceCount": "2"}, "Expected a value of type 'Integer', but received a value of type 'String'"),
    ({"gpuProfileType": "NC8-T4"}, "The provided value 'NC8-T4' for the template parameter 'gpuProfileType'"),
    ({"resourcesToCreate": ["storageAccount", "vnet"]}, "is not part of the allowed value(s)"),
    ({"maxBatchSize": 0}, "The value must be at least 1"),
])
def test_parameters_arm_refuses_are_a_400_before_anything_starts(
    simulated_arm: SimulatedArm, deployments: DeploymentsMgmtClient, overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(HttpResponseError) as refused:
        deploy(deployments, GROUP, "refused", parameter_values=parameters(**overrides))
    assert refused.value.status_code == 400 and "InvalidTemplate" in str(refused.value)
    assert expected in str(refused.value)
    assert simulated_arm.changes == [] and not simulated_arm.app.deployments


def test_a_null_value_is_refused_so_nulls_must_be_dropped_before_sending(deployments: DeploymentsMgmtClient) -> None:
    values = {**parameters(), "location": {"value": None}}
    with pytest.raises(HttpResponseError, match="received a value of type 'Null'"):
        deploy(deployments, GROUP, "nulls", parameter_values=values)


def test_a_function_arm_lacks_and_one_not_simulated_are_refused_by_name(deployments: DeploymentsMgmtClient) -> None:
    unknown = template()
    unknown["variables"]["mountPath"] = "[mountOf('share')]"
    with pytest.raises(HttpResponseError, match="The template function 'mountOf' at 'variables/mountPath' is not"):
        deploy(deployments, GROUP, "unknown-function", body=unknown)
    unsimulated = template()
    unsimulated["variables"]["mountPath"] = "[toLower('/MOUNT')]"
    with pytest.raises(HttpResponseError, match=r"'toLower' .* this simulator does not implement"):
        deploy(deployments, GROUP, "unsimulated-function", body=unsimulated)


def test_a_property_the_api_version_does_not_define_fails_the_resource_naming_it(
    simulated_arm: SimulatedArm, deployments: DeploymentsMgmtClient
) -> None:
    changed = template()
    app = next(resource for resource in changed["resources"] if resource["type"] == "Microsoft.App/containerApps")
    app["properties"]["template"]["containers"][0]["gpuCount"] = 1
    error, operations = failed(deployments, "unknown-property", body=changed)
    assert error["code"] == "DeploymentFailed" and [detail["code"] for detail in error["details"]] == [
        "InvalidRequestContent"]
    assert "properties.template.containers[0].gpuCount" in operations["Microsoft.App/containerApps"]["message"]
    assert not simulated_arm.container_apps.service.apps


def test_no_gpu_quota_fails_the_container_app_with_the_quota_error(
    simulated_arm: SimulatedArm, deployments: DeploymentsMgmtClient
) -> None:
    simulated_arm.set_gpu_quota(0)
    error, operations = failed(deployments, "no-quota")
    assert [detail["code"] for detail in error["details"]] == ["MaxRegionalQuotaExceeded"]
    assert error["details"][0]["target"].endswith(f"/containerApps/aiacaapp{SFX}")
    assert set(operations) == {"Microsoft.App/containerApps"}
    assert "NC24-A100 GPU instance(s)" in operations["Microsoft.App/containerApps"]["message"]


def test_an_unknown_workload_profile_type_fails_the_environment_and_what_needs_it_never_starts(
    simulated_arm: SimulatedArm, deployments: DeploymentsMgmtClient
) -> None:
    changed = template()
    changed["variables"]["serverlessGpuProfile"]["workloadProfileType"] = "Consumption-GPU-NC12-K80"
    changed["parameters"]["gpuProfileType"]["allowedValues"].append("Consumption-GPU-NC12-K80")
    changed["variables"]["gpuSizes"]["Consumption-GPU-NC12-K80"] = {"cpu": 12, "memory": "112Gi"}
    values = parameters(gpuProfileType="Consumption-GPU-NC12-K80")
    _, operations = failed(deployments, "bad-profile", body=changed, parameter_values=values)
    assert set(operations) == {"Microsoft.App/managedEnvironments"}
    assert operations["Microsoft.App/managedEnvironments"]["code"] == "InvalidWorkloadProfileType"
    started = {op.properties.target_resource.resource_type
               for op in deployments.deployment_operations.list(GROUP, "bad-profile")
               if op.properties and op.properties.target_resource}
    assert "Microsoft.App/containerApps" not in started and "Microsoft.App/managedEnvironments/storages" not in started


def test_a_storage_account_name_taken_elsewhere_fails_and_leaves_no_share(
    simulated_arm: SimulatedArm, deployments: DeploymentsMgmtClient
) -> None:
    simulated_arm.take_storage_name(f"aistorage{SFX}")
    _, operations = failed(deployments, "taken")
    failure = operations["Microsoft.Storage/storageAccounts"]
    assert failure["code"] == "StorageAccountAlreadyTaken" and f"aistorage{SFX} is already taken" in failure["message"]
    assert f"aistorage{SFX}" not in simulated_arm.container_apps.azure.files_app.stores
    assert not simulated_arm.container_apps.service.apps
