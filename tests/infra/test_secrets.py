"""No key or secret in an output; the API key only as a container-app secret; outputs exactly the seed's."""

import copy
import json
from typing import Any

import pytest

from tests.infra.arm_template import Evaluator, secret_problems
from tests.infra.bicep_reader import BicepFile
from tests.infra.conftest import INFRA

SEED_OUTPUTS = ["SUBSCRIPTION_ID", "RESOURCE_GROUP_NAME", "STORAGE_ACCOUNT_NAME", "FILE_SHARE_NAME", "ACA_APP_NAME",
                "ACA_APP_ENDPOINT"]


def test_outputs_are_exactly_the_seeds(inference_arm: dict[str, Any], inference_bicep: BicepFile):
    assert list(inference_arm["outputs"]) == SEED_OUTPUTS
    assert list(inference_bicep.outputs) == SEED_OUTPUTS
    assert {output["type"] for output in inference_arm["outputs"].values()} == {"string"}


def test_no_key_or_secure_parameter_outside_a_secret_value(inference_arm: dict[str, Any]):
    assert secret_problems(inference_arm) == []


def test_bicep_outputs_read_no_keys_or_secure_parameters(inference_bicep: BicepFile):
    secure = {name for name, param in inference_bicep.params.items() if param.secure}
    for output in inference_bicep.outputs.values():
        assert "list" not in output.value.lower()
        assert not any(name in output.value for name in secure)


def test_the_api_key_reaches_the_server_through_a_secret(inference_arm: dict[str, Any],
                                                          app_container: dict[str, Any]):
    assert inference_arm["parameters"]["apiKey"]["type"] == "securestring"
    (app,) = [r for r in inference_arm["resources"] if r["type"] == "Microsoft.App/containerApps"]
    assert app["properties"]["configuration"]["secrets"] == [{"name": "api-key", "value": "[parameters('apiKey')]"},
                                                             {"name": "admin-key", "value": "[parameters('adminKey')]"}]
    assert {"name": "ADMIN_API_KEY", "secretRef": "admin-key"} in inference_arm["variables"]["serverEnv"]
    assert {"name": "API_KEY", "secretRef": "api-key"} in inference_arm["variables"]["serverEnv"]
    served = [{"name": "MODEL_PATH", "value": "/mount/m"}]  # what a re-provision passes back from the app
    for parameters in ({}, {"servingEnv": served}):
        evaluator = Evaluator(inference_arm, {"acaAppName": "app", **parameters})
        assert {"name": "API_KEY", "secretRef": "api-key"} in evaluator.value(app_container["env"])


def test_inference_config_has_the_seed_keys():
    config = json.loads((INFRA / "inference.config.json").read_text())
    assert list(config) == SEED_OUTPUTS


def _leak_output(arm: dict[str, Any]) -> None:
    arm["outputs"]["STORAGE_KEY"] = {"type": "string", "value": "[listKeys(resourceId('A/b', 'x'), '1').keys[0].value]"}


def _leak_api_key(arm: dict[str, Any]) -> None:
    arm["outputs"]["ACA_APP_NAME"]["value"] = "[concat(parameters('acaAppName'), parameters('apiKey'))]"


def _key_in_plain_env(arm: dict[str, Any]) -> None:
    arm["variables"]["serverEnv"].append({"name": "API_KEY_COPY", "value": "[parameters('apiKey')]"})


def _keys_in_a_variable(arm: dict[str, Any]) -> None:
    arm["variables"]["accountKey"] = "[listKeys(resourceId('A/b', 'x'), '1').keys[0].value]"


@pytest.mark.parametrize(("mutate", "problem"), [
    (_leak_output, "outputs/STORAGE_KEY/value: listKeys() outside a resource's properties"),
    (_leak_api_key, "outputs/ACA_APP_NAME/value: secure parameter 'apiKey' outside a secret value"),
    (_key_in_plain_env, "secure parameter 'apiKey' outside a secret value"),
    (_keys_in_a_variable, "variables/accountKey: listKeys() outside a resource's properties"),
])
def test_secret_check_catches_a_leak(inference_arm: dict[str, Any], mutate: Any, problem: str):
    leaking = copy.deepcopy(inference_arm)
    mutate(leaking)
    problems = secret_problems(leaking)
    assert any(problem in found for found in problems), problems
