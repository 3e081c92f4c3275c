"""inference.parameters.json fits the template's parameter types and allowed values, and keeps the seed's meaning."""

import copy
from typing import Any

import pytest

from tests.infra.arm_template import load_json
from tests.infra.conftest import INFRA
from tests.infra.parameter_files import parameters_file_problems

# Given by the Azure target (a later issue) when it deploys: the generated API key and the built image.
SUPPLIED_AT_DEPLOY = {"apiKey", "adminKey", "containerImage"}
SEED_NAMES = ("location", "storageAccountName", "fileShareName", "acaEnvironmentName", "acaEnvironmentStorageName",
              "acaAppName", "acaLogAnalyticsName")


def test_parameters_file_fits_the_template(inference_arm: dict[str, Any], inference_parameters: dict[str, Any]):
    assert parameters_file_problems(inference_arm, inference_parameters, SUPPLIED_AT_DEPLOY) == []


def test_seed_names_are_null_so_the_fine_tuning_names_apply(inference_arm: dict[str, Any],
                                                             inference_parameters: dict[str, Any]):
    for name in SEED_NAMES:
        assert inference_parameters["parameters"][name] == {"value": None}
        assert "defaultValue" in inference_arm["parameters"][name]
    assert inference_parameters["parameters"]["maximumInstanceCount"] == {"value": 2}


def test_the_container_runs_the_synced_server_from_the_share(inference_parameters: dict[str, Any]):
    commands = inference_parameters["parameters"]["defaultCommands"]["value"]
    assert "; ".join(commands) == "cd /mount/inference && exec python -m inference_container"


def test_no_secret_is_committed(inference_parameters: dict[str, Any]):
    assert inference_parameters["parameters"]["apiKey"] == {"value": None}


def test_the_main_parameters_file_is_an_arm_parameters_file_too():
    main = load_json(INFRA / "main.parameters.json")
    assert set(main) == {"$schema", "contentVersion", "parameters"}


TEMPLATE = {"parameters": {
    "count": {"type": "int", "minValue": 1, "maxValue": 4},
    "mode": {"type": "string", "defaultValue": "a", "allowedValues": ["a", "b"]},
    "things": {"type": "array", "defaultValue": [], "allowedValues": ["x", "y"]},
    "key": {"type": "securestring"},
    "flag": {"type": "bool", "defaultValue": False},
}}
GOOD = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0", "parameters": {"count": {"value": 2}, "key": {"value": None}}}


def test_validator_accepts_a_good_file():
    assert parameters_file_problems(TEMPLATE, GOOD, supplied_at_deploy={"key"}) == []


@pytest.mark.parametrize(("entries", "problem"), [
    ({"count": {"value": "2"}}, "'2' is not of type int"),
    ({"count": {"value": True}}, "True is not of type int"),
    ({"count": {"value": 9}}, "above the maximum 4"),
    ({"count": {"value": 0}}, "below the minimum 1"),
    ({"count": {"value": 2}, "mode": {"value": "c"}}, "not in the allowed values"),
    ({"count": {"value": 2}, "things": {"value": ["x", "z"]}}, "['z'] not in the allowed values"),
    ({"count": {"value": 2}, "flag": {"value": "false"}}, "is not of type bool"),
    ({"count": {"value": 2}, "typo": {"value": 1}}, "declares no such parameter"),
    ({"count": {"value": None}}, "count: required"),
    ({}, "count: required"),
    ({"count": {"value": 2}, "key": {"value": "s3cret"}}, "a secure parameter has a value"),
    ({"count": {"value": 2, "extra": 1}}, "an entry must be"),
])
def test_validator_reports_each_kind_of_mistake(entries: dict[str, Any], problem: str):
    broken = copy.deepcopy(GOOD)
    broken["parameters"] = entries
    problems = parameters_file_problems(TEMPLATE, broken, supplied_at_deploy={"key"})
    assert any(problem in found for found in problems), problems


def test_validator_checks_the_file_shape():
    broken = {**GOOD, "metadata": {}, "$schema": "https://example.com/schema.json"}
    problems = parameters_file_problems(TEMPLATE, broken, supplied_at_deploy={"key"})
    assert len(problems) == 2, problems
