"""The local container app: a supervised inference-server process on the share, restarted like a revision."""

import json
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from activities.snapshot_adapter import snapshot_adapter
from activities.sync_share import sync_share
from payloads.steps import ReadinessResult
from share_layout import paths
from targets.local import LocalTarget
from targets.local.app_files import SupervisorState
from targets.local.process_control import launch_supervisor, stop_all, supervisor_pid, supervisors_under

BASE_MODEL = "model-cache/local/tiny-chat"


def deployed_version(app: str) -> str:
    """Sync the code and snapshot the adapter through the real activities; the version to serve."""
    ref = {"target": "local", "app_name": app}
    sync_share.build().get_user_function()(ref)
    snapshot = snapshot_adapter.build().get_user_function()
    return str(snapshot({**ref, "adapter_source": paths.TRAINING_ADAPTER, "version": None})["version"])


def wait_ready(target: LocalTarget, app: str, revision: str, timeout: float = 90) -> ReadinessResult:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = target.apps.probe(app, revision)
        if probe.ready or probe.failed:
            return probe
        time.sleep(0.3)
    raise AssertionError(f"{revision} not ready after {timeout} s: {probe.detail}")


@pytest.mark.slow
def test_restart_switches_revision_and_a_killed_server_is_restarted(target: LocalTarget) -> None:
    outputs = target.apps.create_app("app-one", None)
    version = deployed_version("app-one")
    first = target.apps.restart("app-one", BASE_MODEL, version)
    assert first.endpoint == outputs.ACA_APP_ENDPOINT and wait_ready(target, "app-one", first.revision).ready
    files = target.apps.files("app-one")
    old_pid = files.read_state().pid

    second = target.apps.restart("app-one", BASE_MODEL, version)
    assert second.revision != first.revision
    assert target.apps.probe("app-one", second.revision).ready is False  # the old process does not answer for it
    assert wait_ready(target, "app-one", second.revision).ready
    server_pid = files.read_state().pid
    assert server_pid is not None and server_pid != old_pid

    os.kill(server_pid, signal.SIGKILL)  # a crash of the server: the supervisor brings it back
    deadline = time.monotonic() + 60
    while files.read_state().pid in (server_pid, None) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert files.read_state().restarts == 1
    assert wait_ready(target, "app-one", second.revision).ready


@pytest.mark.slow
def test_stop_all_stops_supervisor_and_server_and_frees_the_port(target: LocalTarget) -> None:
    outputs = target.apps.create_app("app-two", None)
    revision = target.apps.restart("app-two", BASE_MODEL, deployed_version("app-two")).revision
    assert wait_ready(target, "app-two", revision).ready
    files = target.apps.files("app-two")
    server_pid = files.read_state().pid
    assert stop_all(files.dir.parent) == ["app-two"]
    assert supervisor_pid(files) is None
    deadline = time.monotonic() + 10  # the orphaned server is reaped by init shortly after it exits
    while Path(f"/proc/{server_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{server_pid}").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{outputs.ACA_APP_ENDPOINT}/health", timeout=2)


def test_restart_without_the_base_model_on_the_share_is_a_clear_error(target: LocalTarget) -> None:
    target.apps.create_app("app-three", None)
    with pytest.raises(FileNotFoundError, match="no base model at 'model-cache/org/missing'"):
        target.apps.restart("app-three", "model-cache/org/missing", "v1")


def test_api_key_file_is_owner_only_and_stable(target: LocalTarget) -> None:
    target.apps.create_app("app-four", None)
    files = target.apps.files("app-four")
    key = files.ensure_api_key()
    target.apps.create_app("app-four", None)
    assert files.ensure_api_key() == key and len(key) >= 32
    assert files.key_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_a_revision_that_keeps_crashing_is_reported_failed_with_its_log(target: LocalTarget) -> None:
    target.apps.create_app("app-five", None)
    version = deployed_version("app-five")
    weights = target.share.path(BASE_MODEL) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # a base model whose copy to the share was cut short
    revision = target.apps.restart("app-five", BASE_MODEL, version).revision
    probe = wait_ready(target, "app-five", revision, timeout=120)
    assert probe.failed and not probe.ready
    assert f"revision {revision} keeps crashing" in probe.detail
    assert "last error: safetensors._safetensors_rust.SafetensorError: Error while deserializing" in probe.detail
    assert target.apps.files("app-five").read_state().restarts >= 3


@pytest.mark.slow
def test_two_supervisors_started_at_once_leave_one_and_stop_finds_it_without_its_pid_file(target: LocalTarget
                                                                                          ) -> None:
    target.apps.create_app("app-six", None)
    files = target.apps.files("app-six")
    with ThreadPoolExecutor(max_workers=2) as pool:
        pids = list(pool.map(lambda _: launch_supervisor(files), range(2)))
    assert pids[0] == pids[1]
    deadline = time.monotonic() + 30  # the one that lost the lock is on its way out
    while len(running := list(supervisors_under(files.dir.parent))) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running == [(pids[0], files.dir)]

    files.pid_path.unlink()  # a supervisor the pid file does not name is still found and stopped
    assert stop_all(files.dir.parent) == ["app-six"]
    assert list(supervisors_under(files.dir.parent)) == []


def test_provision_refuses_a_port_another_app_has_or_another_process_holds(target: LocalTarget) -> None:
    taken = int(target.apps.create_app("app-seven", None).ACA_APP_ENDPOINT.rsplit(":", 1)[1])
    with pytest.raises(ValueError, match=f"port {taken} is already given to app 'app-seven'"):
        target.apps.create_app("app-eight", taken)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        with pytest.raises(ValueError, match=f"port {busy} is in use by another process"):
            target.apps.create_app("app-eight", busy)
    assert not target.apps.is_provisioned("app-eight")  # nothing written for a refused app
    assert target.apps.create_app("app-seven", taken).ACA_APP_ENDPOINT.endswith(f":{taken}")  # its own port


def test_a_ready_answer_from_another_server_on_the_port_is_not_readiness(target: LocalTarget) -> None:
    endpoint = target.apps.create_app("app-nine", None).ACA_APP_ENDPOINT
    port = int(endpoint.rsplit(":", 1)[1])
    answers = {"/ready": {"status": "ready", "revision": "other-app--3"}}

    class Impostor(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(answers.get(self.path, {})).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", port), Impostor) as impostor:
        threading.Thread(target=impostor.serve_forever, daemon=True).start()
        files = target.apps.files("app-nine")
        files.write_state(SupervisorState(revision="app-nine--1", pid=os.getpid(), status="running"))
        probe = target.apps.probe("app-nine", "app-nine--1")
        assert not probe.ready and "answered by other-app--3" in probe.detail
        answers["/ready"] = {"status": "ready", "revision": "app-nine--1"}
        assert target.apps.probe("app-nine", "app-nine--1").ready
        impostor.shutdown()
