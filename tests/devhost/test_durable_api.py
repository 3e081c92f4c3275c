"""The /runtime/webhooks/durabletask HTTP API: start, status, list, purge, and 404 for unknown instances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from azure.durable_functions.constants import DATETIME_STRING_FORMAT
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status
from azure.durable_functions.models.history import HistoryEventType as Ev

from devtools.devhost.process import HostProcess
from tests.devhost.conftest import HTTP_TIMEOUT, start, wait_for_status

pytestmark = pytest.mark.slow  # every test here talks to a devhost subprocess

API = "/runtime/webhooks/durabletask"


def _listed_ids(host: HostProcess, **params: str) -> list[str]:
    """Instance ids the list endpoint returns for these query parameters, oldest first."""
    reply = httpx.get(host.url(f"{API}/instances"), params=params, timeout=HTTP_TIMEOUT)
    assert reply.status_code == 200, reply.text
    return [instance["instanceId"] for instance in reply.json()]


def test_start_with_instance_id_status_and_history(patterns_host: HostProcess) -> None:
    reply = httpx.post(patterns_host.url(f"{API}/orchestrators/fan_out_fan_in/api-fixed-id"), json=3,
                       timeout=HTTP_TIMEOUT)
    assert reply.status_code == 202
    assert reply.json()["id"] == "api-fixed-id"
    status = wait_for_status(reply.json()["statusQueryGetUri"])
    assert status["output"] == 14
    detailed = httpx.get(patterns_host.url(f"{API}/instances/api-fixed-id"), params={"showHistory": "true"},
                         timeout=HTTP_TIMEOUT).json()
    kinds = [Ev(event["EventType"]) for event in detailed["historyEvents"]]
    assert kinds[:2] == [Ev.ORCHESTRATOR_STARTED, Ev.EXECUTION_STARTED]
    assert kinds.count(Ev.TASK_SCHEDULED) == 3 and kinds.count(Ev.TASK_COMPLETED) == 3
    assert Ev.EXECUTION_COMPLETED in kinds


def test_list_filters_by_runtime_status_and_prefix(patterns_host: HostProcess) -> None:
    httpx.post(patterns_host.url(f"{API}/orchestrators/failing/list-fail-1"), timeout=HTTP_TIMEOUT)
    httpx.post(patterns_host.url(f"{API}/orchestrators/chaining/list-ok-1"), timeout=HTTP_TIMEOUT)
    wait_for_status(patterns_host.url(f"{API}/instances/list-fail-1"))
    wait_for_status(patterns_host.url(f"{API}/instances/list-ok-1"))
    failed = httpx.get(patterns_host.url(f"{API}/instances"), params={"runtimeStatus": Status.Failed.value},
                       timeout=HTTP_TIMEOUT).json()
    assert "list-fail-1" in {i["instanceId"] for i in failed}
    assert all(i["runtimeStatus"] == Status.Failed.value for i in failed)
    assert set(_listed_ids(patterns_host, instanceIdPrefix="list-")) == {"list-fail-1", "list-ok-1"}


def test_purge_removes_a_finished_instance(patterns_host: HostProcess) -> None:
    reply = httpx.post(patterns_host.url(f"{API}/orchestrators/chaining/purge-me"), timeout=HTTP_TIMEOUT)
    links = reply.json()
    wait_for_status(links["statusQueryGetUri"])
    purged = httpx.delete(links["purgeHistoryDeleteUri"], timeout=HTTP_TIMEOUT)
    assert purged.status_code == 200
    assert purged.json() == {"instancesDeleted": 1}
    assert httpx.get(links["statusQueryGetUri"], timeout=HTTP_TIMEOUT).status_code == 404


def test_unknown_instance_is_404_everywhere(patterns_host: HostProcess) -> None:
    base = patterns_host.url(f"{API}/instances/does-not-exist")
    assert httpx.get(base, timeout=HTTP_TIMEOUT).status_code == 404
    assert httpx.delete(base, timeout=HTTP_TIMEOUT).status_code == 404
    assert httpx.post(f"{base}/raiseEvent/Anything", json=1, timeout=HTTP_TIMEOUT).status_code == 404
    assert httpx.post(f"{base}/terminate", params={"reason": "x"}, timeout=HTTP_TIMEOUT).status_code == 404


def test_host_status_reports_running(patterns_host: HostProcess) -> None:
    assert httpx.get(patterns_host.url("/admin/host/status"), timeout=HTTP_TIMEOUT).json()["state"] == "Running"


@pytest.mark.parametrize(
    ("prefix", "matching", "other"),
    [
        ("pfx_", "pfx_1", "pfxX1"),  # '_' is a character, not a one-character wildcard
        ("Deploy-", "Deploy-1", "deploy-1"),  # the prefix is case-sensitive
        ("pct%", "pct%1", "pctX1"),  # '%' is a character, not a wildcard
    ],
)
def test_instance_id_prefix_is_literal_and_case_sensitive(patterns_host: HostProcess, prefix: str, matching: str,
                                                          other: str) -> None:
    for instance_id in (matching, other):
        start(patterns_host, f"{API}/orchestrators/chaining/{quote(instance_id, safe='')}")
    assert _listed_ids(patterns_host, instanceIdPrefix=prefix) == [matching]


def test_unknown_runtime_status_or_bad_time_is_a_400_naming_it(patterns_host: HostProcess) -> None:
    bad_status = httpx.get(patterns_host.url(f"{API}/instances"), params={"runtimeStatus": "Done"},
                           timeout=HTTP_TIMEOUT)
    assert bad_status.status_code == 400
    assert "runtimeStatus 'Done'" in bad_status.json()["Message"] and Status.Completed.value in bad_status.text
    bad_time = httpx.get(patterns_host.url(f"{API}/instances"), params={"createdTimeFrom": "yesterday"},
                         timeout=HTTP_TIMEOUT)
    assert bad_time.status_code == 400
    assert "createdTimeFrom 'yesterday'" in bad_time.json()["Message"]


def test_list_filters_by_created_time_as_the_sdk_client_sends_it(patterns_host: HostProcess) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    start(patterns_host, f"{API}/orchestrators/chaining/created-now")
    sent = before.strftime(DATETIME_STRING_FORMAT)
    assert _listed_ids(patterns_host, createdTimeFrom=sent, instanceIdPrefix="created-") == ["created-now"]
    assert _listed_ids(patterns_host, createdTimeTo=sent, instanceIdPrefix="created-") == []


def test_starting_a_live_instance_s_id_is_409_and_a_finished_one_s_replaces_it(approval_host: HostProcess) -> None:
    url = approval_host.url(f"{API}/orchestrators/approval_workflow/only-one")
    first = httpx.post(url, json={"approver": "ida", "timeout_seconds": 600}, timeout=HTTP_TIMEOUT)
    assert first.status_code == 202
    wait_for_status(first.json()["statusQueryGetUri"], (Status.Running,))
    second = httpx.post(url, json={"approver": "someone else", "timeout_seconds": 600}, timeout=HTTP_TIMEOUT)
    assert second.status_code == 409 and second.headers["content-type"] == "application/json"
    assert "status Running already exists" in second.json()["Message"]
    live = httpx.get(first.json()["statusQueryGetUri"], timeout=HTTP_TIMEOUT).json()
    assert live["input"]["approver"] == "ida" and live["runtimeStatus"] == Status.Running.value
    terminated = httpx.post(first.json()["terminatePostUri"].replace("{text}", "done"), timeout=HTTP_TIMEOUT)
    assert terminated.status_code == 202
    again = httpx.post(url, json={"approver": "jo", "timeout_seconds": 600}, timeout=HTTP_TIMEOUT)
    assert again.status_code == 202
    assert httpx.get(again.json()["statusQueryGetUri"], timeout=HTTP_TIMEOUT).json()["input"]["approver"] == "jo"
    httpx.post(again.json()["terminatePostUri"].replace("{text}", "done"), timeout=HTTP_TIMEOUT)
