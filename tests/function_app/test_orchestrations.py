"""Provision and deploy orchestrators replayed through the Durable SDK's own handle on virtual time."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devtools.devhost.testing import run_orchestrator
from orchestrations.deploy import deploy
from orchestrations.policies import failure_reason
from orchestrations.provision import provision

OUTPUTS = {
    "SUBSCRIPTION_ID": "local", "RESOURCE_GROUP_NAME": "local", "STORAGE_ACCOUNT_NAME": "local",
    "FILE_SHARE_NAME": "local-share", "ACA_APP_NAME": "app-one", "ACA_APP_ENDPOINT": "http://127.0.0.1:9000",
}
DEPLOY_INPUT = {
    "target": "local", "app_name": "app-one", "base_model": "model-cache/org/base",
    "adapter_source": "models/qlora/qlora/gpu_model/adapter", "version": None, "readiness_timeout_s": 60,
    "poll_seconds": 5,
}
PROVISION_INPUT = {"target": "local", "app_name": "app-one", "port": None}
RETIRED = {"retired_field": "written by an older version of the app"}


def probes(*answers: dict[str, Any]) -> Callable[[Any], dict[str, Any]]:
    """A check_readiness fake answering in turn, repeating the last answer."""
    queue = list(answers)
    return lambda _payload: queue.pop(0) if len(queue) > 1 else queue[0]


def deploy_fakes(**overrides: Callable[[Any], Any]) -> dict[str, Callable[[Any], Any]]:
    fakes: dict[str, Callable[[Any], Any]] = {
        "sync_share": lambda _p: {"copied": ["a.py"], "deleted": [], "unchanged": 3, "code_hash": "c" * 64},
        "snapshot_adapter": lambda p: {"version": p["version"] or "abc123", "adapter_hash": "a" * 64,
                                       "files_copied": 2},
        "choose_strategy": lambda _p: {"strategy": "restart", "reason": "first deploy of the app: nothing serves yet"},
        "restart_revision": lambda _p: {"revision": "app-one--7", "endpoint": "http://127.0.0.1:9000"},
        "check_readiness": probes({"ready": False, "detail": "loading"}, {"ready": True, "detail": "ready"}),
        "record_deployment": lambda _p: "serving/apps/app-one/current.json",
    }
    return fakes | overrides


def provision_fakes(extra: dict[str, Any] | None = None) -> dict[str, Callable[[Any], Any]]:
    return {"prepare_share": lambda _p: ["inference"], "create_app": lambda _p: OUTPUTS | (extra or {}),
            "register_app": lambda config: config}


def test_provision_succeeds_with_the_app_outputs(tmp_path: Path) -> None:
    result = run_orchestrator(provision, PROVISION_INPUT, provision_fakes(), tmp_path)
    assert result.status == "Completed" and result.output == OUTPUTS
    assert result.calls[:2] == [("prepare_share", {"target": "local", "app_name": "app-one"}),
                                ("create_app", PROVISION_INPUT)]
    registered = result.calls[2]
    assert registered[0] == "register_app" and registered[1]["ACA_APP_ENDPOINT"] == OUTPUTS["ACA_APP_ENDPOINT"]
    assert result.custom_statuses[-1]["step"] == "done"


def test_provision_history_with_fields_since_removed_still_replays(tmp_path: Path) -> None:
    result = run_orchestrator(provision, PROVISION_INPUT | RETIRED, provision_fakes(RETIRED), tmp_path)
    assert result.status == "Completed", result.output
    assert result.output == OUTPUTS


def with_retired_fields(fakes: dict[str, Callable[[Any], Any]]) -> dict[str, Callable[[Any], Any]]:
    """The same fakes answering one more field, as results recorded by an older activity would have."""
    def widen(fake: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def answer(payload: Any) -> Any:
            result = fake(payload)
            return result | RETIRED if isinstance(result, dict) else result

        return answer

    return {name: widen(fake) for name, fake in fakes.items()}


def test_deploy_history_with_fields_since_removed_still_replays(tmp_path: Path) -> None:
    result = run_orchestrator(deploy, DEPLOY_INPUT | RETIRED, with_retired_fields(deploy_fakes()), tmp_path)
    assert result.status == "Completed", result.output
    assert result.output["version"] == "abc123" and "retired_field" not in result.output
    assert all("retired_field" not in payload for _, payload in result.calls)


def test_deploy_input_from_before_the_request_was_unnested_still_replays(tmp_path: Path) -> None:
    nested = {"request": {key: value for key, value in DEPLOY_INPUT.items() if key != "poll_seconds"},
              "poll_seconds": 5}
    old = run_orchestrator(deploy, nested, deploy_fakes(), tmp_path / "old")
    new = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(), tmp_path / "new")
    assert old.status == "Completed" and (old.calls, old.output) == (new.calls, new.output)


def test_deploy_runs_every_step_in_order_and_records_what_it_deployed(tmp_path: Path) -> None:
    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(), tmp_path)
    assert result.status == "Completed", result.output
    names = [name for name, _ in result.calls]
    assert names == ["sync_share", "snapshot_adapter", "choose_strategy", "restart_revision", "check_readiness",
                     "check_readiness", "record_deployment"]
    restart_input = dict(result.calls)["restart_revision"]
    assert restart_input["version"] == "abc123" and restart_input["base_model"] == "model-cache/org/base"
    recorded = dict(result.calls)["record_deployment"]["record"]
    assert result.output["version"] == recorded["version"] == "abc123"
    assert result.output["revision"] == "app-one--7" and result.output["changes"]["code_copied"] == ["a.py"]
    steps = [status["step"] for status in result.custom_statuses]
    assert steps.index("sync_code") < steps.index("restart") < steps.index("wait_ready") < steps.index("done")
    waiting = next(status for status in result.custom_statuses if "probes" in status)
    assert waiting["detail"] == "loading; 0 s of 60 s" and waiting["timeout_s"] == 60
    assert waiting["deadline"] == "2026-01-01T00:01:00.000000Z" and waiting["step_started_at"].endswith("Z")
    assert waiting["results"]["sync_code"] == {"files_copied": 1, "bytes_copied": 0, "files_deleted": 0,
                                               "files_unchanged": 3}
    assert result.custom_statuses[-1]["results"]["snapshot_adapter"] == {"version": "abc123", "files_copied": 2}


def test_an_activity_failing_fails_the_deploy_naming_the_step(tmp_path: Path) -> None:
    def missing_adapter(_payload: Any) -> Any:
        raise FileNotFoundError("no LoRA adapter at 'models/x' on the share")

    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(snapshot_adapter=missing_adapter), tmp_path)
    assert result.status == "Failed"
    assert "step 'snapshot_adapter' failed" in result.output and "no LoRA adapter at 'models/x'" in result.output
    assert "restart_revision" not in [name for name, _ in result.calls]


def test_a_failed_step_says_what_failed_and_what_to_do_without_the_host_s_source_location(tmp_path: Path) -> None:
    def missing_adapter(_payload: Any) -> Any:
        raise FileNotFoundError("no LoRA adapter at 'models/x' on the share")

    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(snapshot_adapter=missing_adapter), tmp_path)
    assert result.status == "Failed"
    assert "step 'snapshot_adapter' failed: no LoRA adapter at 'models/x' on the share;" in result.output
    assert "send the request again" in result.output
    assert __file__ not in result.output and ".py" not in result.output and "FileNotFoundError" not in result.output


def test_the_extension_s_failure_details_are_reduced_to_the_worker_s_message() -> None:
    details = json.dumps({"Message": "Exception: ValueError: no base model", "StackTrace": '  File "/a.py", line 3'})
    reason = failure_reason(Exception(f"Activity function 'restart_revision' failed:  \n {details}"))
    assert reason == "no base model"


def test_retries_are_exhausted_after_three_attempts_then_the_deploy_fails(tmp_path: Path) -> None:
    attempts: list[int] = []

    def flaky_share(_payload: Any) -> Any:
        attempts.append(1)
        raise ConnectionError("share unreachable")

    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(sync_share=flaky_share), tmp_path)
    assert len(attempts) == 3
    assert result.status == "Failed" and "step 'sync_code' failed" in result.output
    assert "share unreachable" in result.output


def test_a_transient_failure_is_retried_and_the_deploy_succeeds(tmp_path: Path) -> None:
    attempts: list[int] = []

    def flaky_once(payload: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("share unreachable")
        return deploy_fakes()["sync_share"](payload)

    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(sync_share=flaky_once), tmp_path)
    assert len(attempts) == 2 and result.status == "Completed"


def test_each_retry_waits_the_same_5_s(tmp_path: Path) -> None:
    attempts: list[int] = []

    def fails_twice(payload: Any) -> Any:
        attempts.append(1)
        if len(attempts) <= 2:
            raise ConnectionError("share unreachable")
        return deploy_fakes()["sync_share"](payload)

    ready = probes({"ready": True, "detail": "ready"})
    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(sync_share=fails_twice, check_readiness=ready),
                              tmp_path)
    assert result.status == "Completed" and len(attempts) == 3
    assert result.output["deployed_at"].startswith("2026-01-01T00:00:10")  # 5 s + 5 s, no back-off


def test_readiness_deadline_passed_fails_with_the_last_probe(tmp_path: Path) -> None:
    never_ready = probes({"ready": False, "detail": "revision app-one--7 is loading (/ready: 503)"})
    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(check_readiness=never_ready), tmp_path)
    assert result.status == "Failed"
    assert "step 'wait_ready' failed" in result.output and "not ready within 60 s" in result.output
    assert "(/ready: 503)" in result.output
    probes_made = sum(1 for name, _ in result.calls if name == "check_readiness")
    assert 60 / 5 <= probes_made <= 60 / 5 + 2  # one probe per poll interval until the deadline
    assert "record_deployment" not in [name for name, _ in result.calls]


def test_crash_loop_fails_at_once_without_waiting_for_the_deadline(tmp_path: Path) -> None:
    crashing = probes({"ready": False, "failed": True, "detail": "revision app-one--7 keeps crashing"})
    start_and_end = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(check_readiness=crashing), tmp_path)
    assert start_and_end.status == "Failed" and "keeps crashing" in start_and_end.output
    assert sum(1 for name, _ in start_and_end.calls if name == "check_readiness") == 1


def test_deploy_waits_on_durable_timers_not_by_sleeping(tmp_path: Path) -> None:
    slow = probes(*[{"ready": False, "detail": "loading"}] * 4, {"ready": True, "detail": "ready"})
    result = run_orchestrator(deploy, DEPLOY_INPUT, deploy_fakes(check_readiness=slow), tmp_path)
    assert result.status == "Completed"
    assert result.output["deployed_at"].startswith("2026-01-01T00:00:20")  # four 5 s timers of virtual time
