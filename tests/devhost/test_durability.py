"""A host killed mid-orchestration resumes on restart; SIGTERM stops it cleanly, and always within a deadline."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status
from azure.durable_functions.models.history import HistoryEventType as Ev

from devtools.devhost.process import HostProcess
from tests.devhost.conftest import APPS, HTTP_TIMEOUT, start, wait_for_status, wait_until

pytestmark = pytest.mark.slow  # every test here talks to a devhost subprocess

STOP_DEADLINE_S = 15  # the host's own: three grace periods of 5 s after the signal


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostProcess]:
    """A fresh approval-app host with its own state dir, for tests that kill it."""
    with HostProcess(APPS / "approval", tmp_path / "state") as process:
        yield process


def _attempts(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _gated_job(tmp_path: Path, instance_id: str) -> dict[str, object]:
    """A slow_workflow job whose activity marks each start, then waits until the test creates the release file."""
    return {"attempts_file": str(tmp_path / "attempts"), "release_file": str(tmp_path / "release"),
            "timer_seconds": 0.2, "instance_id": instance_id}


def test_sigkill_during_an_activity_reruns_it_and_completes(host: HostProcess, tmp_path: Path) -> None:
    links = start(host, "/svc/jobs/slow_workflow", _gated_job(tmp_path, "crash-1"))
    wait_until(lambda: _attempts(tmp_path / "attempts") == 1, what="the activity starting")
    host.kill()  # the activity is waiting for the release file: it is surely still running
    host.start()
    wait_until(lambda: _attempts(tmp_path / "attempts") == 2, what="the activity running again after the restart")
    (tmp_path / "release").touch()
    status = wait_for_status(links["statusQueryGetUri"], timeout=60)
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["output"] == "approved by slow step"
    assert _attempts(tmp_path / "attempts") == 2


def test_sigkill_while_a_timer_waits_rearms_it_and_completes(host: HostProcess, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    job = {"attempts_file": str(attempts), "timer_seconds": 2, "instance_id": "crash-2"}
    links = start(host, "/svc/jobs/slow_workflow", job)
    wait_until(lambda: _has_timer(host.url("/runtime/webhooks/durabletask/instances/crash-2")),
               what="the durable timer being created")
    host.kill()
    host.start()
    status = wait_for_status(links["statusQueryGetUri"], timeout=60)
    assert status["runtimeStatus"] == Status.Completed.value
    assert status["customStatus"] == "timer fired"
    assert _attempts(attempts) == 1


def test_sigkill_while_waiting_for_an_event_keeps_waiting(host: HostProcess) -> None:
    links = start(host, "/svc/approvals", {"approver": "fay", "timeout_seconds": 60})
    wait_for_status(links["statusQueryGetUri"], (Status.Running,))
    host.kill()
    host.start()
    assert httpx.get(links["statusQueryGetUri"], timeout=HTTP_TIMEOUT).json()["runtimeStatus"] == Status.Running.value
    reply = httpx.post(links["sendEventPostUri"].replace("{eventName}", "ApprovalEvent"),
                       json={"approved": True, "by": "fay"}, timeout=HTTP_TIMEOUT)
    assert reply.status_code == 202
    assert wait_for_status(links["statusQueryGetUri"])["output"] == "approved by fay"


def test_sigterm_exits_cleanly(host: HostProcess) -> None:
    assert host.stop() == 0
    assert "Host stopped" in host.logs()


def _has_timer(status_url: str) -> bool:
    reply = httpx.get(status_url, params={"showHistory": "true"}, timeout=HTTP_TIMEOUT)
    history = reply.json().get("historyEvents", [])
    return any(event["EventType"] == Ev.TIMER_CREATED for event in history)


def test_sigterm_lets_a_running_activity_finish_and_keeps_its_result(host: HostProcess, tmp_path: Path) -> None:
    links = start(host, "/svc/jobs/slow_workflow", _gated_job(tmp_path, "term-1"))
    wait_until(lambda: _attempts(tmp_path / "attempts") == 1, what="the activity starting")
    stopping = threading.Thread(target=host.stop, kwargs={"timeout": 60})
    stopping.start()
    wait_until(lambda: "Stopping (signal" in host.logs(), what="the host taking the stop signal")
    (tmp_path / "release").touch()  # the activity ends within the grace period
    stopping.join()
    assert host.returncode == 0, host.logs()
    host.start()
    status = wait_for_status(links["statusQueryGetUri"], timeout=60)
    assert status["output"] == "approved by slow step"
    assert _attempts(tmp_path / "attempts") == 1


@pytest.mark.parametrize("route", ["blocking/thread", "blocking/loop"])
def test_sigterm_stops_the_host_within_its_deadline_even_while_a_request_never_ends(
    host: HostProcess, tmp_path: Path, route: str
) -> None:
    job = {"started_file": str(tmp_path / "started"), "release_file": str(tmp_path / "never")}
    client = threading.Thread(target=_post_ignoring_errors, args=(host.url(f"/svc/{route}"), job), daemon=True)
    client.start()
    wait_until(lambda: (tmp_path / "started").exists(), what="the request starting")
    began = time.monotonic()
    code = host.stop(timeout=STOP_DEADLINE_S + 45)
    took = time.monotonic() - began
    assert code != -signal.SIGKILL, f"the host ignored SIGTERM and was killed after {took:.0f} s"
    assert took < STOP_DEADLINE_S + 15, took
    assert "Stopping (signal" in host.logs()


def _post_ignoring_errors(url: str, body: dict[str, str]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the host goes away mid-request: what the test makes happen
        httpx.post(url, json=body, timeout=120)


def test_a_second_host_on_the_same_state_dir_refuses_to_start(host: HostProcess) -> None:
    second = HostProcess(host.app_dir, host.state_dir, startup_timeout=60)
    with pytest.raises(RuntimeError, match="exited with 1"):
        second.start()
    assert "already using the state dir" in second.logs()
    second.close()
    assert httpx.get(host.url("/admin/host/status"), timeout=HTTP_TIMEOUT).json()["state"] == "Running"
