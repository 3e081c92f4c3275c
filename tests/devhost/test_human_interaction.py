"""External events, durable timers and the monitor pattern on the approval sample app (routePrefix "svc")."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status
from azure.durable_functions.models.history import HistoryEventType as Ev

from devtools.devhost.process import HostProcess
from tests.devhost.conftest import HTTP_TIMEOUT, start, wait_for_status, wait_until

pytestmark = pytest.mark.slow  # every test here talks to a devhost subprocess


def _send_event_url(links: dict[str, str], event: str) -> str:
    return links["sendEventPostUri"].replace("{eventName}", event)


def _custom_status(links: dict[str, str]) -> object:
    return httpx.get(links["statusQueryGetUri"], timeout=HTTP_TIMEOUT).json()["customStatus"]


def test_raised_event_resumes_the_waiting_orchestration(approval_host: HostProcess) -> None:
    links = start(approval_host, "/svc/approvals", {"approver": "ana", "timeout_seconds": 60})
    wait_until(lambda: _custom_status(links) == "waiting for approval", what="the orchestration waiting for approval")
    reply = httpx.post(_send_event_url(links, "ApprovalEvent"), json={"approved": True, "by": "ana"},
                       timeout=HTTP_TIMEOUT)
    assert reply.status_code == 202
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"] == "approved by ana"
    assert status["customStatus"] == "approved"


def test_event_sent_through_the_sdk_client_resumes_the_orchestration(approval_host: HostProcess) -> None:
    links = start(approval_host, "/svc/approvals", {"approver": "bo", "timeout_seconds": 60})
    reply = httpx.post(approval_host.url(f"/svc/approvals/{links['id']}/approve"), json={"approved": True, "by": "bo"},
                       timeout=HTTP_TIMEOUT)
    assert reply.status_code == 202
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["output"] == "approved by bo"


def test_timer_wins_when_no_event_comes(approval_host: HostProcess) -> None:
    links = start(approval_host, "/svc/approvals", {"approver": "cy", "timeout_seconds": 1})
    status = wait_for_status(links["statusQueryGetUri"], timeout=20)
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"] == "rejected by timeout"
    assert status["customStatus"] == "escalated"


def test_monitor_polls_on_a_timer_until_the_job_is_done(approval_host: HostProcess, tmp_path: Path) -> None:
    job = {"counter_file": str(tmp_path / "checks"), "done_after": 3, "interval_seconds": 0.2,
           "expiry_seconds": 60}
    links = start(approval_host, "/svc/jobs/monitor", job)
    status = wait_for_status(links["statusQueryGetUri"], timeout=20)
    assert status["output"] == {"state": "done", "polls": 3}
    assert status["customStatus"] == {"polls": 3, "state": "done"}


def test_terminate_stops_a_waiting_orchestration(approval_host: HostProcess) -> None:
    links = start(approval_host, "/svc/approvals", {"approver": "di", "timeout_seconds": 60})
    wait_for_status(links["statusQueryGetUri"], (Status.Running,))
    reply = httpx.post(links["terminatePostUri"].replace("{text}", "no longer needed"), timeout=HTTP_TIMEOUT)
    assert reply.status_code == 202
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["runtimeStatus"] == Status.Terminated.value
    assert status["output"] == "no longer needed"
    late = httpx.post(_send_event_url(links, "ApprovalEvent"), json={"approved": True}, timeout=HTTP_TIMEOUT)
    assert late.status_code == 410
    assert httpx.post(links["terminatePostUri"].replace("{text}", "again"), timeout=HTTP_TIMEOUT).status_code == 410


def test_terminate_and_purge_through_the_sdk_client(approval_host: HostProcess) -> None:
    links = start(approval_host, "/svc/approvals", {"approver": "ed", "timeout_seconds": 60})
    reply = httpx.delete(approval_host.url(f"/svc/instances/{links['id']}"), timeout=HTTP_TIMEOUT)
    assert reply.status_code == 200
    assert reply.json() == {"deleted": 1}
    assert httpx.get(links["statusQueryGetUri"], timeout=HTTP_TIMEOUT).status_code == 404
    assert httpx.delete(approval_host.url(f"/svc/instances/{links['id']}"), timeout=HTTP_TIMEOUT).status_code == 404


def test_suspended_instance_holds_events_until_resumed(approval_host: HostProcess) -> None:
    links = start(approval_host, "/svc/approvals", {"approver": "gus", "timeout_seconds": 60})
    wait_until(lambda: _custom_status(links) == "waiting for approval", what="the orchestration waiting for approval")
    assert httpx.post(links["suspendPostUri"].replace("{text}", "hold"), timeout=HTTP_TIMEOUT).status_code == 202
    assert httpx.get(links["statusQueryGetUri"], timeout=HTTP_TIMEOUT).json()["runtimeStatus"] == Status.Suspended.value
    httpx.post(links["sendEventPostUri"].replace("{eventName}", "ApprovalEvent"), json={"approved": True, "by": "gus"},
               timeout=HTTP_TIMEOUT)
    held = httpx.get(links["statusQueryGetUri"], params={"showHistory": "true"}, timeout=HTTP_TIMEOUT).json()
    assert held["runtimeStatus"] == Status.Suspended.value
    assert Ev.EVENT_RAISED not in [event["EventType"] for event in held["historyEvents"]]  # not delivered yet
    assert httpx.post(links["resumePostUri"].replace("{text}", "go"), timeout=HTTP_TIMEOUT).status_code == 202
    assert wait_for_status(links["statusQueryGetUri"])["output"] == "approved by gus"
