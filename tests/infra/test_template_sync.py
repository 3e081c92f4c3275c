"""The committed ARM JSON says what inference.bicep says (declarations, and every literal setting)."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.bicep_reader import BicepFile, read_bicep_text
from tests.infra.conftest import PROVISION
from tests.infra.template_sync import bicep_expression_to_arm, declaration_problems, literal_property_problems

FINE_TUNING_NAMES = {  # facts/AZURE.md 1.3: the fine-tuning template's prefixes (the job is aiacajob<sfx>)
    "storageAccountName": "aistorage",
    "fileShareName": "aifileshare",
    "acaEnvironmentName": "aienv",
    "acaEnvironmentStorageName": "aienvstorage",
    "acaAppName": "aiacaapp",
    "acaLogAnalyticsName": "ailog",
}


def test_bicep_and_arm_declare_the_same_parameters_resources_and_outputs(inference_bicep: BicepFile,
                                                                            inference_arm: dict[str, Any]):
    assert declaration_problems(inference_bicep, inference_arm) == []


def test_every_literal_setting_in_the_bicep_is_in_the_arm(inference_bicep: BicepFile, inference_arm: dict[str, Any]):
    assert literal_property_problems(inference_bicep, inference_arm) == []


def test_arm_generator_metadata_is_there(inference_arm: dict[str, Any]):
    assert inference_arm["$schema"] == "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
    assert inference_arm["contentVersion"] == "1.0.0.0"
    assert inference_arm["metadata"]["_generator"]["name"] == "bicep"


def test_default_names_are_the_fine_tuning_templates(inference_arm: dict[str, Any]):
    parameters = inference_arm["parameters"]
    assert parameters["resourceSuffix"]["defaultValue"] == "[substring(uniqueString(resourceGroup().id), 0, 5)]"
    for name, prefix in FINE_TUNING_NAMES.items():
        assert parameters[name]["defaultValue"] == f"[format('{prefix}{{0}}', parameters('resourceSuffix'))]"


def test_bicep_interpolation_translates_to_format(inference_bicep: BicepFile):
    assert bicep_expression_to_arm("'ai${resourceSuffix}'", inference_bicep) == \
        "[format('ai{0}', parameters('resourceSuffix'))]"
    assert bicep_expression_to_arm("join(defaultCommands, '; ')", inference_bicep) == \
        "[join(parameters('defaultCommands'), '; ')]"


def _drop_output(arm: dict[str, Any]) -> None:
    del arm["outputs"]["ACA_APP_ENDPOINT"]


def _retype_parameter(arm: dict[str, Any]) -> None:
    arm["parameters"]["maxBatchSize"]["type"] = "string"


def _change_default(arm: dict[str, Any]) -> None:
    arm["parameters"]["acaAppName"]["defaultValue"] = "[format('aiacajob{0}', parameters('resourceSuffix'))]"


def _old_api_version(arm: dict[str, Any]) -> None:
    arm["resources"][-1]["apiVersion"] = "2023-11-02-preview"


def _unconditional_environment(arm: dict[str, Any]) -> None:
    environment = next(r for r in arm["resources"] if r["type"] == "Microsoft.App/managedEnvironments")
    del environment["condition"]


def _reference_with_other_version(arm: dict[str, Any]) -> None:
    arm["outputs"]["ACA_APP_ENDPOINT"]["value"] = arm["outputs"]["ACA_APP_ENDPOINT"]["value"].replace(
        "2026-07-01", "2025-01-01")


def _extra_allowed_value(arm: dict[str, Any]) -> None:
    arm["parameters"]["gpuProfileType"]["allowedValues"].append("NC48-A100")


@pytest.mark.parametrize(("mutate", "problem"), [
    (_drop_output, "output ACA_APP_ENDPOINT only in Bicep"),
    (_retype_parameter, "parameter maxBatchSize: Bicep type int, ARM type string"),
    (_change_default, "parameter acaAppName: default"),
    (_old_api_version, "in Bicep, not in ARM"),
    (_unconditional_environment, "in ARM, not in Bicep"),
    (_reference_with_other_version, "uses API 2025-01-01"),
    (_extra_allowed_value, "parameter gpuProfileType: allowed values differ"),
])
def test_sync_check_reports_a_drifted_arm_template(inference_bicep: BicepFile, inference_arm: dict[str, Any],
                                                   mutate: Callable[[dict[str, Any]], None], problem: str):
    drifted = copy.deepcopy(inference_arm)
    mutate(drifted)
    problems = declaration_problems(inference_bicep, drifted)
    assert any(problem in found for found in problems), problems


def test_literal_check_reports_a_setting_changed_on_one_side(inference_arm: dict[str, Any]):
    text = (PROVISION / "inference.bicep").read_text().replace("periodSeconds: 90", "periodSeconds: 120")
    problems = literal_property_problems(read_bicep_text(text), inference_arm)
    assert problems == ["Bicep sets periodSeconds: 120, ARM has no such property value"]
