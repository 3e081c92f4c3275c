"""What a deployment of inference.json writes and runs, evaluated from the template (no Azure, no compiler)."""

import copy
from itertools import combinations
from typing import Any

import pytest

from inference_container.settings import Settings
from share_layout import paths
from tests.infra.arm_template import Evaluator, expressions, key_listing_problems, written_resources

REQUIRED = {"defaultCommands": ["cd /mount/inference && exec python -m inference_container"],
            "maximumInstanceCount": 2, "containerImage": "cr.azurecr.io/finetune-inference:abc", "apiKey": "k",
            "adminKey": "a"}
SHARED = ["storageAccount", "fileShare", "logAnalytics", "environment", "environmentStorage"]
APP = "Microsoft.App/containerApps"
ENVIRONMENT = "Microsoft.App/managedEnvironments"


def app_resource(inference_arm: dict[str, Any]) -> dict[str, Any]:
    """The container app resource."""
    (app,) = [r for r in inference_arm["resources"] if r["type"] == APP]
    return dict(app)


def evaluated_app(inference_arm: dict[str, Any], **parameters: Any) -> dict[str, Any]:
    """The container app's identity and properties as ARM would send them (deploy-time expressions only)."""
    app = app_resource(inference_arm)
    evaluator = Evaluator(inference_arm, {**REQUIRED, "resourceSuffix": "abcde", **parameters})
    container = app["properties"]["template"]["containers"][0]
    return {
        "identity": evaluator.value(app["identity"]),
        "registries": evaluator.value(app["properties"]["configuration"]["registries"]),
        "env": {e["name"]: e.get("value", e.get("secretRef")) for e in evaluator.value(container["env"])},
        "command": evaluator.value(container["command"]),
        "resources": evaluator.value(container["resources"]),
        "scale": evaluator.value(app["properties"]["template"]["scale"]),
        "mounts": evaluator.value(container["volumeMounts"]),
        "volumes": evaluator.value(app["properties"]["template"]["volumes"]),
        "gpuProfile": evaluator.value("[variables('gpuProfile')]"),
    }


def test_reusing_the_fine_tuning_resources_writes_only_the_container_app(inference_arm: dict[str, Any]):
    assert written_resources(inference_arm, REQUIRED) == [APP]


def test_a_new_resource_group_gets_everything(inference_arm: dict[str, Any]):
    written = written_resources(inference_arm, {**REQUIRED, "resourcesToCreate": SHARED})
    assert sorted(written) == sorted(r["type"] for r in inference_arm["resources"])


@pytest.mark.parametrize("listed", [list(c) for n in range(len(SHARED)) for c in combinations(SHARED, n)
                                    if "environment" not in c])
def test_an_existing_environment_is_never_written(inference_arm: dict[str, Any], listed: list[str]):
    assert ENVIRONMENT not in written_resources(inference_arm, {**REQUIRED, "resourcesToCreate": listed})


def test_write_check_sees_an_environment_without_a_condition(inference_arm: dict[str, Any]):
    broken = copy.deepcopy(inference_arm)
    environment = next(r for r in broken["resources"] if r["type"] == ENVIRONMENT)
    del environment["condition"]
    assert written_resources(broken, REQUIRED) == [ENVIRONMENT, APP]


def test_keys_are_listed_only_by_the_resource_being_created(inference_arm: dict[str, Any]):
    assert key_listing_problems(inference_arm) == []
    listing = [text for _, text in expressions(inference_arm) if "listKeys(" in text]
    assert len(listing) == 2  # the new environment's log key, the new storage link's account key


def test_key_check_catches_an_unguarded_listkeys(inference_arm: dict[str, Any]):
    broken = copy.deepcopy(inference_arm)
    link = next(r for r in broken["resources"] if r["type"] == "Microsoft.App/managedEnvironments/storages")
    link["properties"]["azureFile"]["accountKey"] = (
        "[listKeys(resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName')), "
        "'2024-01-01').keys[0].value]")
    assert key_listing_problems(broken) == [
        "resources/5/properties/azureFile/accountKey: keys listed outside if(<its condition>)"]


def test_microsoft_app_resources_use_the_stable_2026_07_01_api(inference_arm: dict[str, Any]):
    versions = {r["apiVersion"] for r in inference_arm["resources"] if r["type"].startswith("Microsoft.App/")}
    assert versions == {"2026-07-01"}


@pytest.mark.parametrize(("profile", "cpu", "memory", "dedicated"), [
    ("NC24-A100", 24, "220Gi", True),
    ("Consumption-GPU-NC8as-T4", 8, "56Gi", False),
    ("Consumption-GPU-NC24-A100", 24, "220Gi", False),
])
def test_gpu_profile_is_chosen_by_a_parameter(inference_arm: dict[str, Any], profile: str, cpu: int, memory: str,
                                              dedicated: bool):
    app = evaluated_app(inference_arm, gpuProfileType=profile, gpuProfileName="gpu")
    assert app["resources"] == {"cpu": cpu, "memory": memory}
    expected: dict[str, Any] = {"workloadProfileType": profile, "name": "gpu"}
    if dedicated:
        expected |= {"minimumCount": 0, "maximumCount": REQUIRED["maximumInstanceCount"]}
    assert app["gpuProfile"] == expected
    assert app_resource(inference_arm)["properties"]["workloadProfileName"] == "[parameters('gpuProfileName')]"


def test_scale_rule_follows_the_servers_batch_size(inference_arm: dict[str, Any]):
    batch = Settings.model_fields["max_batch_size"].default
    assert inference_arm["parameters"]["maxBatchSize"]["defaultValue"] == batch == 32
    app = evaluated_app(inference_arm)
    (rule,) = app["scale"]["rules"]
    assert rule["http"]["metadata"]["concurrentRequests"] == app["env"]["MAX_BATCH_SIZE"] == str(batch)
    assert app["scale"]["minReplicas"] == 0
    assert app["scale"]["maxReplicas"] == REQUIRED["maximumInstanceCount"]
    assert evaluated_app(inference_arm, maxBatchSize=8)["scale"]["rules"][0]["http"]["metadata"] == {
        "concurrentRequests": "8"}


def test_server_environment_points_into_the_mounted_share(inference_arm: dict[str, Any]):
    app = evaluated_app(inference_arm)
    assert app["mounts"] == [{"volumeName": app["volumes"][0]["name"], "mountPath": "/mount"}]
    assert app["env"] == {
        "MODEL_PATH": "/mount/model-cache/microsoft/Phi-3-mini-4k-instruct",
        "ADAPTER_PATH": f"/mount/{paths.TRAINING_ADAPTER}",
        "MERGED_CACHE_DIR": f"/mount/{paths.MERGED_CACHE}",
        "MAX_BATCH_SIZE": "32",
        "PORT": "7860",
        "HOST": "0.0.0.0",
        "API_KEY": "api-key",
        "ADMIN_API_KEY": "admin-key",
        "ADAPTER_POINTER": "/mount/serving/apps/aiacaappabcde/current.json",
    }
    assert "ADAPTER_PATH" not in evaluated_app(inference_arm, adapterPath="")["env"]
    assert app["volumes"][0]["storageType"] == "AzureFile"


def test_server_runs_from_the_synced_code_on_the_share(inference_arm: dict[str, Any]):
    command = evaluated_app(inference_arm)["command"]
    assert command == ["/bin/bash", "-c", f"cd /mount/{paths.INFERENCE_CODE} && exec python -m inference_container"]


def test_image_is_pulled_with_the_pull_identity(inference_arm: dict[str, Any]):
    identity_id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull"
    app = evaluated_app(inference_arm, registryServer="cr.azurecr.io", registryIdentityResourceId=identity_id)
    assert app["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}}
    assert app["registries"] == [{"server": "cr.azurecr.io", "identity": identity_id}]
    public = evaluated_app(inference_arm)
    assert public["identity"] == {"type": "None"} and public["registries"] == []
