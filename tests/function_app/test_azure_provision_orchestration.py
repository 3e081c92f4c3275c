"""The provision orchestration on Azure, replayed through the Durable SDK on virtual time with fake activities:
resource group, start, then the monitor loop until the deployment ends or the deadline passes."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from devtools.devhost.testing import run_orchestrator
from orchestrations.provision import provision

OUTPUTS = {"SUBSCRIPTION_ID": "5f1c2a7e-93d4-4b8a-a6e2-0c4f1d8b7e31", "RESOURCE_GROUP_NAME": "rg",
           "STORAGE_ACCOUNT_NAME": "st", "FILE_SHARE_NAME": "share", "ACA_APP_NAME": "chat",
           "ACA_APP_ENDPOINT": "https://chat.example.azurecontainerapps.io"}
PLAN = {"subscription_id": OUTPUTS["SUBSCRIPTION_ID"], "resource_group": "rg", "deployment_name": "inference-chat",
        "location": None, "parameters": {"acaAppName": "chat", "containerImage": "img:1"}, "timeout_s": 600,
        "poll_seconds": 30}
JOB = {"target": "azure", "app_name": "chat", "port": None, "azure": PLAN}
APP = {"type": "Microsoft.App/containerApps", "name": "chat"}


def reads(*answers: dict[str, Any]) -> Callable[[Any], dict[str, Any]]:
    """A read_arm_deployment fake answering in turn, repeating the last answer."""
    queue = list(answers)
    return lambda _payload: queue.pop(0) if len(queue) > 1 else queue[0]


RUNNING = {"state": "Running", "resources": [APP | {"state": "Running"}]}
SUCCEEDED = {"state": "Succeeded", "outputs": OUTPUTS, "resources": [APP | {"state": "Succeeded"}]}


def fakes(**overrides: Callable[[Any], Any]) -> dict[str, Callable[[Any], Any]]:
    return {
        "ensure_resource_group": lambda _p: {"location": "westus3", "created": False},
        "start_arm_deployment": lambda _p: {"state": "Accepted"},
        "read_arm_deployment": reads(RUNNING, RUNNING, SUCCEEDED),
        "register_app": lambda config: config,
    } | overrides


def names(calls: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in calls]


def test_provision_on_azure_watches_the_deployment_until_it_succeeds_and_registers_the_app(tmp_path: Path) -> None:
    result = run_orchestrator(provision, JOB, fakes(), tmp_path)
    assert result.status == "Completed", result.output
    assert result.output == OUTPUTS
    assert names(result.calls) == ["ensure_resource_group", "start_arm_deployment", "read_arm_deployment",
                                   "read_arm_deployment", "read_arm_deployment", "register_app"]
    started = dict(result.calls)["start_arm_deployment"]
    assert started["deployment_name"] == "inference-chat" and started["parameters"] == PLAN["parameters"]
    registered = dict(result.calls)["register_app"]
    assert registered["target"] == "azure" and registered["ACA_APP_ENDPOINT"] == OUTPUTS["ACA_APP_ENDPOINT"]
    assert result.finished_at is not None and result.finished_at.isoformat().startswith("2026-01-01T00:01:00")


def test_progress_shows_the_running_resources_and_the_time_spent_against_the_deadline(tmp_path: Path) -> None:
    result = run_orchestrator(provision, JOB, fakes(), tmp_path)
    waiting = [status for status in result.custom_statuses if status.get("step") == "wait_deployment"
               and "resources" in status]
    assert waiting[-1]["resources"] == [APP | {"state": "Running"}]
    assert waiting[-1]["elapsed_s"] == 30 and waiting[-1]["deadline_s"] == 600
    assert "running: Microsoft.App/containerApps 'chat'" in waiting[-1]["detail"]
    assert "30 s of 10 min" in waiting[-1]["detail"]
    assert result.custom_statuses[-1]["step"] == "done"


def test_a_failed_deployment_fails_the_provision_with_the_readable_reason(tmp_path: Path) -> None:
    failure = ("ARM deployment 'inference-chat': Microsoft.App/managedEnvironments 'env' failed: "
               "MaxRegionalQuotaExceeded: no GPUs; what to do: request more quota")
    failed = {"state": "Failed", "failure": failure, "resources": []}
    result = run_orchestrator(provision, JOB, fakes(read_arm_deployment=reads(RUNNING, failed)), tmp_path)
    assert result.status == "Failed"
    assert f"step 'wait_deployment' failed: {failure}" in result.output
    assert "register_app" not in names(result.calls)
    assert "Traceback" not in result.output and ".py" not in result.output


def test_a_deployment_still_running_at_the_deadline_fails_saying_it_goes_on_in_azure(tmp_path: Path) -> None:
    result = run_orchestrator(provision, JOB, fakes(read_arm_deployment=reads(RUNNING)), tmp_path)
    assert result.status == "Failed"
    assert "still Running after 10 min" in result.output and "goes on in Azure" in result.output
    assert "provision_timeout_s" in result.output
    polls = names(result.calls).count("read_arm_deployment")
    assert 600 / 30 <= polls <= 600 / 30 + 2  # one read per poll interval until the deadline


def test_a_refused_deployment_fails_at_the_start_step_without_a_stack_trace(tmp_path: Path) -> None:
    def refused(_payload: Any) -> Any:
        raise RuntimeError("ARM deployment 'inference-chat' failed: StorageAccountAlreadyTaken: taken; what to do: "
                           "choose another storage_account_name")

    result = run_orchestrator(provision, JOB, fakes(start_arm_deployment=refused), tmp_path)
    assert result.status == "Failed"
    assert "step 'start_deployment' failed: ARM deployment 'inference-chat' failed: StorageAccountAlreadyTaken" in (
        result.output)
    assert "RuntimeError" not in result.output and "read_arm_deployment" not in names(result.calls)


def test_a_retried_start_carries_the_same_run_id_so_it_can_adopt_its_own_deployment(tmp_path: Path) -> None:
    attempts: list[dict[str, Any]] = []

    def flaky_start(payload: dict[str, Any]) -> dict[str, Any]:
        attempts.append(payload)
        if len(attempts) == 1:
            raise ConnectionError("connection dropped after the PUT was sent")
        return {"state": "Running", "adopted": True}

    result = run_orchestrator(provision, JOB, fakes(start_arm_deployment=flaky_start), tmp_path)
    assert result.status == "Completed", result.output
    assert len(attempts) == 2 and attempts[0]["run_id"] == attempts[1]["run_id"] != ""


def test_a_rerun_is_a_new_run_with_the_same_deployment_name(tmp_path: Path) -> None:
    first = run_orchestrator(provision, JOB, fakes(), tmp_path / "one")
    second = run_orchestrator(provision, JOB, fakes(), tmp_path / "two")
    one, two = dict(first.calls)["start_arm_deployment"], dict(second.calls)["start_arm_deployment"]
    assert one["deployment_name"] == two["deployment_name"]
