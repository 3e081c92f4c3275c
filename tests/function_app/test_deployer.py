"""The per-app deployer replayed through the Durable SDK's own handle, episode by episode.

The test decides what arrives together: ten `deploy_requested` events in one batch while a deploy runs (the SDK
would keep only the last of them if no wait were open), a deploy's completion, continue_as_new.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.testing import EpisodeDriver
from orchestrations.deployer import EVENT, RECENT_LIMIT, deploy_superseded, deployer
from orchestrations.deployer import NAME as DEPLOYER
from orchestrations.deployer import SUPERSEDED as SUPERSEDED_NAME

APP = "chat-one"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def request(n: int, seconds: float | None = None) -> dict[str, Any]:
    """The n-th deploy request of the app (adapter n), made at T0 + n seconds unless told otherwise."""
    at = T0 + timedelta(seconds=n if seconds is None else seconds)
    job = {"target": "local", "app_name": APP, "base_model": "model-cache/org/base",
           "adapter_source": f"adapters/a{n}", "version": None, "readiness_timeout_s": 60, "poll_seconds": 1}
    return {"request_id": f"deploy_{APP}_r{n:02d}", "job": job, "trigger": {"kind": "user"},
            "requested_at": at.isoformat()}


def deploy_output(n: int) -> dict[str, Any]:
    """What the deploy of adapter n returns."""
    return {"app_name": APP, "endpoint": "http://127.0.0.1:9000", "revision": f"{APP}--{n}", "version": f"v{n}",
            "base_model": "model-cache/org/base", "adapter_hash": "a" * 64, "code_hash": "c" * 64,
            "deployed_at": T0.isoformat(), "changes": {"code_copied": [], "code_deleted": [],
                                                       "adapter_files_copied": 1}}


def started(driver: EpisodeDriver, name: str) -> list[str]:
    """Instance ids of the children of one orchestrator, in the order they were started."""
    return [child.instance_id for child in driver.children if child.name == name]


def fresh() -> EpisodeDriver:
    driver = EpisodeDriver(deployer, instance_id=f"deployer_{APP}", start=T0)
    driver.start({"app_name": APP})
    assert driver.status is Status.Running and driver.custom_status["state"] == "idle"
    return driver


def test_ten_events_arriving_in_one_batch_while_a_deploy_runs_are_all_seen() -> None:
    driver = fresh()
    driver.raise_events(EVENT, [request(0)])
    assert started(driver, "deploy") == [f"deploy_{APP}_r00"]
    driver.raise_events(EVENT, [request(n) for n in range(1, 11)])  # one episode, ten EventRaised
    queued = [item["request_id"] for item in driver.custom_status["queued"]]
    assert queued == [f"deploy_{APP}_r{n:02d}" for n in range(1, 11)]
    assert driver.custom_status["running"]["request_id"] == f"deploy_{APP}_r00"
    assert started(driver, "deploy") == [f"deploy_{APP}_r00"], "a second deploy started while one runs"


def test_when_the_deploy_finishes_only_the_newest_runs_and_each_older_one_is_superseded_by_it() -> None:
    driver = fresh()
    driver.raise_events(EVENT, [request(0)])
    for n in range(1, 10):  # one at a time this time, each in its own episode
        driver.raise_events(EVENT, [request(n)])
    driver.complete_child(f"deploy_{APP}_r00", deploy_output(0))
    assert started(driver, "deploy") == [f"deploy_{APP}_r00", f"deploy_{APP}_r09"]
    superseded = {child.instance_id: child.input for child in driver.children if child.name == SUPERSEDED_NAME}
    assert sorted(superseded) == [f"deploy_{APP}_r{n:02d}" for n in range(1, 9)]
    assert {item["superseded_by"] for item in superseded.values()} == {f"deploy_{APP}_r09"}
    newest = driver.child(f"deploy_{APP}_r09").input
    assert newest["adapter_source"] == "adapters/a9" and newest["request_id"] == f"deploy_{APP}_r09"
    assert driver.custom_status["serving"]["version"] == "v0" and driver.custom_status["queued"] == []


def test_newest_is_by_request_time_not_by_arrival() -> None:
    driver = fresh()
    driver.raise_events(EVENT, [request(0)])
    driver.raise_events(EVENT, [request(2), request(1)])  # a re-raised older request arrives last
    driver.complete_child(f"deploy_{APP}_r00", deploy_output(0))
    assert started(driver, "deploy")[-1] == f"deploy_{APP}_r02"
    assert driver.child(f"deploy_{APP}_r01").input["superseded_by"] == f"deploy_{APP}_r02"


def test_a_request_id_seen_before_is_ignored_even_across_continue_as_new() -> None:
    driver = fresh()
    driver.raise_events(EVENT, [request(0), request(0)])
    driver.complete_child(f"deploy_{APP}_r00", deploy_output(0))
    assert driver.continued_as_new == 1 and driver.status is Status.Running
    carried = driver.input
    assert carried["recent"] == [f"deploy_{APP}_r00"] and carried["serving"]["version"] == "v0"
    assert carried["generation"] == 1
    driver.raise_events(EVENT, [request(0)])  # redelivered after continue_as_new
    assert started(driver, "deploy") == [f"deploy_{APP}_r00"]
    assert driver.custom_status["accepted"] == [f"deploy_{APP}_r00"] and driver.custom_status["state"] == "idle"


def test_continue_as_new_keeps_the_carried_state_small_and_bounded() -> None:
    driver = fresh()
    for n in range(RECENT_LIMIT + 8):
        driver.raise_events(EVENT, [request(n)])
        driver.complete_child(f"deploy_{APP}_r{n:02d}", deploy_output(n))
    assert driver.continued_as_new == RECENT_LIMIT + 8
    assert len(driver.input["recent"]) == RECENT_LIMIT
    assert len(driver.history) < 20, "history grows across generations"
    assert driver.input["serving"]["version"] == f"v{RECENT_LIMIT + 7}"


def test_a_failed_deploy_is_recorded_and_the_next_request_still_runs() -> None:
    driver = fresh()
    driver.raise_events(EVENT, [request(0)])
    driver.raise_events(EVENT, [request(1)])
    driver.fail_child(f"deploy_{APP}_r00", "step 'wait_ready' failed: not ready")
    assert started(driver, "deploy") == [f"deploy_{APP}_r00", f"deploy_{APP}_r01"]
    assert driver.custom_status["last"]["result"] == "failed" and driver.custom_status["serving"] is None


def test_superseded_marker_output_names_its_replacement() -> None:
    marker = EpisodeDriver(deploy_superseded, instance_id=f"deploy_{APP}_r01", start=T0)
    marker.start({"request_id": f"deploy_{APP}_r01", "superseded_by": f"deploy_{APP}_r09",
                  "job": request(1)["job"], "trigger": {"kind": "user"}, "requested_at": T0.isoformat()})
    assert marker.status is Status.Completed
    assert marker.instance is not None and marker.instance.output is not None
    assert f'"superseded_by": "deploy_{APP}_r09"' in marker.instance.output
    assert '"result": "superseded"' in marker.instance.output
    assert DEPLOYER == "deployer"
