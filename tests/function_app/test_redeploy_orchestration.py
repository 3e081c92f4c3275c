"""The deploy orchestration's strategies (swap, blue-green, restart) replayed on virtual time with fake activities."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools.devhost.testing import RunResult, run_orchestrator
from orchestrations.deploy import deploy
from payloads.requests import DeployRequest
from tests.function_app.test_orchestrations import DEPLOY_INPUT, deploy_fakes, probes

SERVING = {"serving_revision": "app-one--6", "serving_endpoint": "http://127.0.0.1:9000", "serving_version": "old1"}
PASSED = {"passed": True, "transcript": [{"prompt": "Say hello.", "reply": "hello", "passed": True, "seconds": 0.2}]}
FAILED = {"passed": False, "transcript": [{"prompt": "Say hello.", "reply": "", "passed": False, "seconds": 0.2,
                                           "reason": "the reply is empty"}]}


def choosing(strategy: str, reason: str = "only the adapter changed (old1 -> abc123)") -> Callable[[Any], Any]:
    return lambda _p: {"strategy": strategy, "reason": reason, **SERVING}


def blue_green_fakes(**overrides: Callable[[Any], Any]) -> dict[str, Callable[[Any], Any]]:
    fakes = {
        "choose_strategy": choosing("blue_green", "the server code changed"),
        "start_candidate": lambda _p: {"revision": "app-one--7", "url": "http://127.0.0.1:9100"},
        "probe_candidate": probes({"ready": False, "detail": "candidate loading"}, {"ready": True, "detail": "ready"}),
        "smoke_gate": lambda _p: PASSED,
        "promote_candidate": lambda p: {"revision": p["revision"], "endpoint": "http://127.0.0.1:9000",
                                        "previous_revision": "app-one--6"},
        "discard_candidate": lambda p: p["revision"],
    }
    return deploy_fakes(**(fakes | overrides))


def names(result: RunResult) -> list[str]:
    return [name for name, _ in result.calls]


def last_results(result: RunResult) -> dict[str, Any]:
    return dict(result.custom_statuses[-1].get("results") or {})


def test_an_adapter_only_change_is_swapped_in_place_behind_the_default_gate(tmp_path: Path) -> None:
    swapped = {"swapped": True, "version": "abc123", "previous_version": "old1", "paused_s": 0.4, "gate": PASSED}
    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(choose_strategy=choosing("swap"),
                                                                 swap_adapter=lambda _p: swapped), tmp_path)
    assert result.status == "Completed", result.output
    assert names(result) == ["sync_share", "snapshot_adapter", "choose_strategy", "swap_adapter", "record_deployment"]
    swap_input = dict(result.calls)["swap_adapter"]
    assert swap_input["version"] == "abc123" and swap_input["gate"]["prompts"][0]["messages"][0]["content"]
    assert result.output["strategy"] == "swap" and result.output["revision"] == "app-one--6"
    assert dict(result.calls)["record_deployment"]["record"]["version"] == "abc123"
    final = result.custom_statuses[-1]
    assert final["step"] == "done" and final["results"]["choose_strategy"]["strategy"] == "swap"
    assert final["results"]["swap_adapter"]["gate"]["passed"] is True
    # the count of steps is unknown (null) until the strategy is chosen, then it is the swap path's five
    counts = [(s["step"], s["step_number"], s["total_steps"]) for s in result.custom_statuses]
    assert ("sync_code", 1, None) in counts and ("choose_strategy", 3, None) in counts
    assert ("swap_adapter", 4, 5) in counts and counts[-1] == ("done", 5, 5)


def test_a_swap_whose_gate_fails_changes_nothing_and_fails_saying_why(tmp_path: Path) -> None:
    refused = {"swapped": False, "version": "abc123", "gate": FAILED, "detail": "the server kept its adapter"}
    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(choose_strategy=choosing("swap"),
                                                                 swap_adapter=lambda _p: refused), tmp_path)
    assert result.status == "Failed"
    assert ("step 'swap_adapter' failed: the smoke gate failed on prompt 'Say hello.': the reply is empty"
            in result.output)
    assert "version old1 keeps serving" in result.output
    assert "record_deployment" not in names(result)
    assert last_results(result)["swap_adapter"]["gate"]["transcript"][0]["reason"] == "the reply is empty"


def test_a_server_that_cannot_swap_is_redeployed_blue_green(tmp_path: Path) -> None:
    unsupported = {"swapped": False, "version": "abc123", "unsupported": True, "detail": "404: admin disabled"}
    fakes = blue_green_fakes(choose_strategy=choosing("swap"), swap_adapter=lambda _p: unsupported)
    result = run_orchestrator(deploy, DEPLOY_INPUT, fakes, tmp_path)
    assert result.status == "Completed", result.output
    assert "start_candidate" in names(result) and result.output["strategy"] == "blue_green"
    assert "blue-green instead" in last_results(result)["choose_strategy"]["reason"]


def test_a_code_change_goes_blue_green_candidate_gate_promote(tmp_path: Path) -> None:
    gate = {"prompts": [{"prompt": "2+2=", "expect": ["4"]}], "deadline_s": 5, "max_tokens": 4}
    result = run_orchestrator(deploy, DEPLOY_INPUT | {"gate": gate}, blue_green_fakes(), tmp_path)
    assert result.status == "Completed", result.output
    assert names(result) == ["sync_share", "snapshot_adapter", "choose_strategy", "start_candidate", "probe_candidate",
                             "probe_candidate", "smoke_gate", "promote_candidate", "record_deployment"]
    gate_input = dict(result.calls)["smoke_gate"]
    assert gate_input["url"] == "http://127.0.0.1:9100" and gate_input["gate"]["prompts"][0]["expect"] == ["4"]
    assert result.output["revision"] == "app-one--7" and result.output["strategy"] == "blue_green"
    steps = [status["step"] for status in result.custom_statuses]
    assert steps.index("start_candidate") < steps.index("wait_candidate") < steps.index("smoke_gate") \
        < steps.index("promote") < steps.index("record")
    assert result.custom_statuses[-1]["total_steps"] == 8


@pytest.mark.parametrize(("overrides", "failed_step", "why"), [
    ({"probe_candidate": lambda _p: {"ready": False, "failed": True, "detail": "candidate app-one--7 exited (exit "
                                     "code 1)"}}, "wait_candidate", "candidate app-one--7 exited (exit code 1)"),
    ({"probe_candidate": lambda _p: {"ready": False, "detail": "candidate loading"}}, "wait_candidate",
     "revision app-one--7 was not ready within 60 s"),
    ({"smoke_gate": lambda _p: FAILED}, "smoke_gate",
     "the smoke gate failed on prompt 'Say hello.': the reply is empty"),
])
def test_a_rejected_candidate_is_discarded_and_no_traffic_moves(tmp_path: Path, overrides: dict[str, Any],
                                                                failed_step: str, why: str) -> None:
    result = run_orchestrator(deploy, DEPLOY_INPUT, blue_green_fakes(**overrides), tmp_path)
    assert result.status == "Failed"
    assert f"step '{failed_step}' failed: {why}" in result.output
    assert "candidate app-one--7 was discarded, no traffic moved: app-one--6 keeps serving" in result.output
    assert ("discard_candidate", {"target": "local", "app_name": "app-one", "azure": None,
                                  "revision": "app-one--7"}) in result.calls
    assert "promote_candidate" not in names(result) and "record_deployment" not in names(result)
    assert result.custom_statuses[-1]["step"] == failed_step
    if failed_step == "smoke_gate":
        assert last_results(result)["smoke_gate"]["gate"]["transcript"][0]["passed"] is False


def test_no_second_replica_restarts_in_place_and_the_status_says_so(tmp_path: Path) -> None:
    fallback = {"fallback": "the app runs at most 1 server"}
    result = run_orchestrator(deploy, DEPLOY_INPUT, blue_green_fakes(start_candidate=lambda _p: fallback), tmp_path)
    assert result.status == "Completed", result.output
    assert names(result)[3:] == ["start_candidate", "restart_revision", "check_readiness", "check_readiness",
                                 "record_deployment"]
    assert result.output["strategy"] == "restart"
    chosen = last_results(result)["choose_strategy"]
    assert chosen["strategy"] == "restart" and "the app runs at most 1 server" in chosen["reason"]
    restart_status = next(status for status in result.custom_statuses if status["step"] == "restart")
    assert "in place: the app runs at most 1 server" in restart_status["message"]


def test_the_request_carries_strategy_and_gate_into_the_job(tmp_path: Path) -> None:
    seen: list[Any] = []

    def choose(payload: Any) -> dict[str, str]:
        seen.append(payload)
        return {"strategy": "restart", "reason": "asked"}

    fakes = deploy_fakes(choose_strategy=choose)
    result = run_orchestrator(deploy, DEPLOY_INPUT | {"strategy": "restart"}, fakes, tmp_path)
    assert result.status == "Completed" and seen[0]["requested"] == "restart" and seen[0]["code_hash"] == "c" * 64


@pytest.mark.parametrize("body", [
    {"strategy": "swap"}, {"strategy": "fast"}, {"gate": {"prompts": []}},
    {"gate": {"prompts": [{"prompt": "a", "messages": [{"role": "user", "content": "b"}]}]}},
    {"gate": {"prompts": [{"prompt": "a"}], "deadline_s": 0}}, {"gate": {"prompts": [{"prompt": "a"}], "extra": 1}},
])
def test_bad_strategy_or_gate_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        DeployRequest.model_validate({"base_model": "model-cache/org/base"} | body)
