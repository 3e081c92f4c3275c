"""Each Durable Functions pattern of the patterns sample app completes over real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.process import HostProcess
from tests.devhost.conftest import HTTP_TIMEOUT, start, wait_for_status

pytestmark = pytest.mark.slow  # every test here talks to a devhost subprocess


def test_chaining_returns_each_greeting_in_order(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/chaining")
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_check_status_links_point_at_this_host(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/chaining")
    assert links["statusQueryGetUri"].startswith(patterns_host.base_url + "/runtime/webhooks/durabletask/")
    assert links["id"] in links["statusQueryGetUri"]
    wait_for_status(links["statusQueryGetUri"])


def test_fan_out_fan_in_sums_parallel_results_and_reports_custom_status(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/fan_out_fan_in", 10)
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["output"] == sum(n * n for n in range(1, 11))
    assert status["customStatus"] == {"step": "done", "items": 10}
    assert status["input"] == 10


def test_sub_orchestrations_return_their_children_outputs(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/sub_orchestrations")
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"] == {"greetings": ["Hello Tokyo!", "Hello Seattle!", "Hello London!"], "total": 14}


def test_failed_sub_orchestration_raises_in_the_parent(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/sub_failing")
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"].startswith("child failed: Sub-orchestration 'failing' failed:")
    assert "disk is full" in status["output"]
    child_url = links["statusQueryGetUri"].replace(links["id"], f"{links['id']}-child")
    child = httpx.get(child_url, timeout=HTTP_TIMEOUT).json()
    assert child["runtimeStatus"] == Status.Failed.value


def test_continue_as_new_restarts_with_new_input_until_done(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/counter", {"n": 1, "limit": 4, "squares": []})
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"] == [1, 4, 9, 16]
    assert status["input"] == {"n": 4, "limit": 4, "squares": [1, 4, 9]}


def test_retry_succeeds_after_transient_failures(patterns_host: HostProcess, tmp_path: Path) -> None:
    job = {"counter_file": str(tmp_path / "calls"), "fail_times": 2}
    links = start(patterns_host, "/api/orchestrators/with_retry", job)
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"] == "succeeded after 3 calls"


def test_retry_exhausted_fails_with_the_last_error(patterns_host: HostProcess, tmp_path: Path) -> None:
    job = {"counter_file": str(tmp_path / "calls"), "fail_times": 10}
    links = start(patterns_host, "/api/orchestrators/with_retry", job)
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Failed.value
    assert "Activity function 'flaky' failed" in status["output"]
    assert "transient failure 3" in status["output"]
    assert (tmp_path / "calls").read_text() == "3"


def test_activity_failure_fails_the_orchestration_with_a_readable_message(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/failing")
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Failed.value
    assert "ValueError: disk is full" in status["output"]


def test_orchestrator_can_catch_an_activity_failure(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/catching")
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"].startswith("caught: Activity function 'boom' failed: ValueError: quota exceeded")


def test_sdk_client_get_status_through_an_http_trigger(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/chaining")
    wait_for_status(links["statusQueryGetUri"])
    reply = httpx.get(patterns_host.url(f"/api/status/{links['id']}"), timeout=HTTP_TIMEOUT)
    assert reply.status_code == 200
    assert reply.json()["runtimeStatus"] == Status.Completed.value
    assert httpx.get(patterns_host.url("/api/status/no-such-instance"), timeout=HTTP_TIMEOUT).status_code == 404


def test_unknown_orchestrator_is_a_client_error(patterns_host: HostProcess) -> None:
    reply = httpx.post(patterns_host.url("/api/orchestrators/no_such_orchestrator"), timeout=HTTP_TIMEOUT)
    assert reply.status_code == 500
    reply = httpx.post(patterns_host.url("/runtime/webhooks/durabletask/orchestrators/no_such_orchestrator"),
                       timeout=HTTP_TIMEOUT)
    assert reply.status_code == 400
    assert "no_such_orchestrator" in reply.json()["Message"]


def test_sync_anonymous_function_with_query_params(patterns_host: HostProcess) -> None:
    reply = httpx.get(patterns_host.url("/api/ping"), params={"name": "devhost"}, timeout=HTTP_TIMEOUT)
    assert reply.status_code == 200
    assert reply.text == "pong devhost"


def test_unknown_route_and_wrong_method(patterns_host: HostProcess) -> None:
    assert httpx.get(patterns_host.url("/api/nothing-here"), timeout=HTTP_TIMEOUT).status_code == 404
    assert httpx.post(patterns_host.url("/api/ping"), timeout=HTTP_TIMEOUT).status_code == 405


def test_each_invocation_is_logged_with_name_and_outcome(patterns_host: HostProcess) -> None:
    links = start(patterns_host, "/api/orchestrators/chaining")
    wait_for_status(links["statusQueryGetUri"])
    logs = patterns_host.logs()
    assert "Executed 'Functions.http_start' (Succeeded" in logs
    assert f"Executed 'Functions.chaining' (orchestrator, Completed, Id={links['id']}" in logs
    assert f"Executed 'Functions.say_hello' (Succeeded, Id={links['id']}" in logs
