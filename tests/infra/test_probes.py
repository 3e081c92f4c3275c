"""Probes hit the server's health routes, stay inside ACA's documented limits, and give a GPU cold start room."""

import copy
from typing import Any

import pytest

from tests.infra.arm_template import Evaluator
from tests.infra.probe_limits import (
    MAX_TERMINATION_GRACE_SECONDS,
    max_startup_budget_seconds,
    probe_problems,
    startup_budget_seconds,
)

# Cold start of a 4k-context model on a serverless T4, merged-cache miss: CUDA and imports (~30 s), reading
# ~7.6 GB of bf16 weights from Azure Files at ~100 MB/s (~80 s), merging the LoRA, writing the merged copy
# back to the share (~80-150 s), a second adapter load for the base view, warm-up: about 5-6 minutes.
# The budget must cover that with room to spare.
COLD_START_ESTIMATE_S = 360


def resolved_probes(inference_arm: dict[str, Any], container: dict[str, Any]) -> list[dict[str, Any]]:
    """The container's probes with their expressions (the port variable) evaluated."""
    return list(Evaluator(inference_arm, {}).value(container["probes"]))


def test_probes_are_within_aca_limits(inference_arm: dict[str, Any], app_container: dict[str, Any]):
    assert probe_problems(resolved_probes(inference_arm, app_container)) == []


def test_probes_use_the_servers_routes_and_port(inference_arm: dict[str, Any], app_container: dict[str, Any]):
    probes = {probe["type"]: probe for probe in resolved_probes(inference_arm, app_container)}
    assert {kind: probe["httpGet"]["path"] for kind, probe in probes.items()} == {
        "Startup": "/ready", "Liveness": "/health", "Readiness": "/ready"}
    (app,) = [r for r in inference_arm["resources"] if r["type"] == "Microsoft.App/containerApps"]
    target_port = Evaluator(inference_arm, {}).value(app["properties"]["configuration"]["ingress"]["targetPort"])
    assert target_port == 7860
    assert {probe["httpGet"]["port"] for probe in probes.values()} == {target_port}


def test_startup_budget_fits_a_gpu_cold_start(inference_arm: dict[str, Any], app_container: dict[str, Any]):
    (startup,) = [p for p in resolved_probes(inference_arm, app_container) if p["type"] == "Startup"]
    budget = startup_budget_seconds(startup)
    assert 2 * COLD_START_ESTIMATE_S <= budget <= max_startup_budget_seconds()
    assert startup["periodSeconds"] <= 90, "readiness is noticed at most one period late"


def test_termination_grace_is_within_limits(inference_arm: dict[str, Any]):
    (app,) = [r for r in inference_arm["resources"] if r["type"] == "Microsoft.App/containerApps"]
    assert 30 < app["properties"]["template"]["terminationGracePeriodSeconds"] <= MAX_TERMINATION_GRACE_SECONDS


GOOD_PROBE = {"type": "Liveness", "httpGet": {"path": "/health", "port": 7860, "scheme": "HTTP"},
              "periodSeconds": 10, "timeoutSeconds": 5, "successThreshold": 1, "failureThreshold": 3}


@pytest.mark.parametrize(("change", "problem"), [
    ({"failureThreshold": 11}, "failureThreshold 11 outside 1-10"),
    ({"initialDelaySeconds": 90}, "initialDelaySeconds 90 outside 1-60"),
    ({"periodSeconds": 300}, "periodSeconds 300 outside 1-240"),
    ({"timeoutSeconds": 0}, "timeoutSeconds 0 outside 1-240"),
    ({"successThreshold": 2}, "Liveness: successThreshold must be 1"),
    ({"type": "Startup", "successThreshold": 3}, "Startup: successThreshold must be 1"),
    ({"type": "Warmup"}, "unknown probe type"),
    ({"httpGet": {"path": "/health", "port": "[variables('port')]"}}, "integer port"),
    ({"httpGet": {"path": "/health", "port": 7860, "scheme": "GRPC"}}, "scheme HTTP or HTTPS"),
])
def test_probe_check_catches_values_outside_the_limits(change: dict[str, Any], problem: str):
    probe = {**copy.deepcopy(GOOD_PROBE), **change}
    problems = probe_problems([probe])
    assert any(problem in found for found in problems), problems


def test_probe_check_catches_two_probes_of_one_type():
    assert probe_problems([GOOD_PROBE, GOOD_PROBE]) == ["Liveness: 2 probes of one type (ACA allows one)"]


def test_startup_budget_arithmetic():
    assert startup_budget_seconds({"initialDelaySeconds": 60, "periodSeconds": 240, "failureThreshold": 10}) == \
        max_startup_budget_seconds() == 2460
    assert startup_budget_seconds({}) == 30
