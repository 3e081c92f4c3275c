"""The /runtime/webhooks/durabletask HTTP API: start, status, list, purge, and 404 for unknown instances."""

from __future__ import annotations

import httpx

from devtools.devhost.process import HostProcess
from tests.devhost.conftest import wait_for_status

API = "/runtime/webhooks/durabletask"


def test_start_with_instance_id_status_and_history(patterns_host: HostProcess) -> None:
    reply = httpx.post(patterns_host.url(f"{API}/orchestrators/fan_out_fan_in/api-fixed-id"), json=3)
    assert reply.status_code == 202
    assert reply.json()["id"] == "api-fixed-id"
    status = wait_for_status(reply.json()["statusQueryGetUri"])
    assert status["output"] == 14
    detailed = httpx.get(patterns_host.url(f"{API}/instances/api-fixed-id"), params={"showHistory": "true"}).json()
    kinds = [event["EventType"] for event in detailed["historyEvents"]]
    assert kinds[:2] == [12, 0]  # OrchestratorStarted, ExecutionStarted
    assert kinds.count(4) == 3 and kinds.count(5) == 3  # TaskScheduled, TaskCompleted
    assert 1 in kinds  # ExecutionCompleted


def test_list_filters_by_runtime_status_and_prefix(patterns_host: HostProcess) -> None:
    httpx.post(patterns_host.url(f"{API}/orchestrators/failing/list-fail-1"))
    httpx.post(patterns_host.url(f"{API}/orchestrators/chaining/list-ok-1"))
    wait_for_status(patterns_host.url(f"{API}/instances/list-fail-1"))
    wait_for_status(patterns_host.url(f"{API}/instances/list-ok-1"))
    failed = httpx.get(patterns_host.url(f"{API}/instances"), params={"runtimeStatus": "Failed"}).json()
    assert "list-fail-1" in {i["instanceId"] for i in failed}
    assert all(i["runtimeStatus"] == "Failed" for i in failed)
    prefixed = httpx.get(patterns_host.url(f"{API}/instances"), params={"instanceIdPrefix": "list-"}).json()
    assert {i["instanceId"] for i in prefixed} == {"list-fail-1", "list-ok-1"}


def test_purge_removes_a_finished_instance(patterns_host: HostProcess) -> None:
    reply = httpx.post(patterns_host.url(f"{API}/orchestrators/chaining/purge-me"))
    links = reply.json()
    wait_for_status(links["statusQueryGetUri"])
    purged = httpx.delete(links["purgeHistoryDeleteUri"])
    assert purged.status_code == 200
    assert purged.json() == {"instancesDeleted": 1}
    assert httpx.get(links["statusQueryGetUri"]).status_code == 404


def test_unknown_instance_is_404_everywhere(patterns_host: HostProcess) -> None:
    base = patterns_host.url(f"{API}/instances/does-not-exist")
    assert httpx.get(base).status_code == 404
    assert httpx.delete(base).status_code == 404
    assert httpx.post(f"{base}/raiseEvent/Anything", json=1).status_code == 404
    assert httpx.post(f"{base}/terminate", params={"reason": "x"}).status_code == 404


def test_host_status_reports_running(patterns_host: HostProcess) -> None:
    assert httpx.get(patterns_host.url("/admin/host/status")).json()["state"] == "Running"
