"""A host killed mid-orchestration resumes on restart; SIGTERM stops cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status
from azure.durable_functions.models.history import HistoryEventType as Ev

from devtools.devhost.process import HostProcess
from tests.devhost.conftest import APPS, start, wait_for_status, wait_until

pytestmark = pytest.mark.slow  # every test here talks to a devhost subprocess


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostProcess]:
    """A fresh approval-app host with its own state dir, for tests that kill it."""
    with HostProcess(APPS / "approval", tmp_path / "state") as process:
        yield process


def _attempts(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_sigkill_during_an_activity_reruns_it_and_completes(host: HostProcess, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    job = {"attempts_file": str(attempts), "sleep_seconds": 1.5, "timer_seconds": 0.5, "instance_id": "crash-1"}
    links = start(host, "/svc/jobs/slow_workflow", job)
    wait_until(lambda: _attempts(attempts) == 1, what="the slow activity starting")
    host.kill()
    host.start()
    status = wait_for_status(links["statusQueryGetUri"], timeout=30)
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"] == "approved by slow step"
    assert _attempts(attempts) == 2


def test_sigkill_while_a_timer_waits_rearms_it_and_completes(host: HostProcess, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    job = {"attempts_file": str(attempts), "sleep_seconds": 0, "timer_seconds": 2, "instance_id": "crash-2"}
    links = start(host, "/svc/jobs/slow_workflow", job)
    wait_until(lambda: _has_timer(host.url("/runtime/webhooks/durabletask/instances/crash-2")),
               what="the durable timer being created")
    host.kill()
    host.start()
    status = wait_for_status(links["statusQueryGetUri"], timeout=30)
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["customStatus"] == "timer fired"
    assert _attempts(attempts) == 1


def test_sigkill_while_waiting_for_an_event_keeps_waiting(host: HostProcess) -> None:
    links = start(host, "/svc/approvals", {"approver": "fay", "timeout_seconds": 60})
    wait_for_status(links["statusQueryGetUri"], (Status.Running,))
    host.kill()
    host.start()
    assert httpx.get(links["statusQueryGetUri"]).json()["runtimeStatus"] == Status.Running.value
    reply = httpx.post(links["sendEventPostUri"].replace("{eventName}", "ApprovalEvent"),
                       json={"approved": True, "by": "fay"})
    assert reply.status_code == 202
    assert wait_for_status(links["statusQueryGetUri"])["output"] == "approved by fay"


def test_sigterm_exits_cleanly(host: HostProcess) -> None:
    assert host.stop() == 0
    assert "Host stopped" in host.logs()


def _has_timer(status_url: str) -> bool:
    history = httpx.get(status_url, params={"showHistory": "true"}).json().get("historyEvents", [])
    return any(event["EventType"] == Ev.TIMER_CREATED for event in history)


def test_sigterm_lets_a_running_activity_finish_and_keeps_its_result(host: HostProcess, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    job = {"attempts_file": str(attempts), "sleep_seconds": 1.0, "timer_seconds": 0.2, "instance_id": "term-1"}
    links = start(host, "/svc/jobs/slow_workflow", job)
    wait_until(lambda: _attempts(attempts) == 1, what="the slow activity starting")
    assert host.stop() == 0
    host.start()
    status = wait_for_status(links["statusQueryGetUri"], timeout=30)
    assert status["output"] == "approved by slow step"
    assert _attempts(attempts) == 1


def test_a_second_host_on_the_same_state_dir_refuses_to_start(host: HostProcess) -> None:
    second = HostProcess(host.app_dir, host.state_dir, startup_timeout=20)
    with pytest.raises(RuntimeError, match="exited with 1"):
        second.start()
    assert "already using the state dir" in second.logs()
    second.close()
    assert httpx.get(host.url("/admin/host/status")).json()["state"] == "Running"
