"""Blue-green on the local target: the endpoint stays, the server behind it changes, no request is dropped."""

import os
import signal
import time
from pathlib import Path

import pytest

from activities.smoke_gate import run_gate
from devtools.bench_redeploy.load import LoadClients
from payloads.redeploy import GatePrompt, SmokeGate, default_gate
from targets.local import LocalTarget
from tests.targets.test_local_apps import BASE_MODEL, deployed_version, wait_ready

pytestmark = pytest.mark.slow  # starts supervisors and inference servers


def second_version(target: LocalTarget, app: str, first: str) -> str:
    """The same adapter under another version name (what a new training result would be)."""
    from activities.snapshot_adapter import snapshot_adapter
    from share_layout import paths

    snapshot = snapshot_adapter.build().get_user_function()
    version = f"{first[:6]}-b"
    snapshot({"target": "local", "app_name": app, "adapter_source": paths.TRAINING_ADAPTER, "version": version})
    return version


def candidate_ready(target: LocalTarget, app: str, revision: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = target.apps.probe_candidate(app, revision)
        if probe.ready or probe.failed:
            return "ready" if probe.ready else probe.detail
        time.sleep(0.2)
    return "timeout"


def serving_app(target: LocalTarget, app: str) -> tuple[str, str, str]:
    """A provisioned app serving its first version: (endpoint, first version, revision)."""
    endpoint = target.apps.create_app(app, None).ACA_APP_ENDPOINT
    version = deployed_version(app)
    revision = target.apps.restart(app, BASE_MODEL, version).revision
    assert wait_ready(target, app, revision).ready
    return endpoint, version, revision


def test_promotion_under_streaming_load_drops_no_request_and_moves_every_new_request(target: LocalTarget) -> None:
    endpoint, old, serving = serving_app(target, "bg-one")
    new = second_version(target, "bg-one", old)
    files = target.apps.files("bg-one")
    old_pid = files.read_state().pid
    with LoadClients(endpoint, files.ensure_api_key(), clients=3) as load:
        load.wait_for(3, after=0)
        candidate = target.apps.start_candidate("bg-one", BASE_MODEL, new)
        assert candidate.revision and candidate.url and candidate.fallback is None
        assert candidate_ready(target, "bg-one", candidate.revision) == "ready"
        gate = run_gate(candidate.url, files.ensure_api_key(), default_gate())
        assert gate.passed, gate
        promoted = target.apps.promote("bg-one", candidate.revision)
        switched = time.monotonic()
        replies = load.wait_for(6, after=switched)
    assert promoted.endpoint == endpoint and promoted.previous_revision == serving
    assert [reply.failure for reply in replies if reply.failure] == []
    assert {reply.version for reply in replies} <= {old, new}
    assert {reply.version for reply in replies if reply.started >= switched} == {new}
    assert target.apps.probe("bg-one", candidate.revision).ready
    deadline = time.monotonic() + 60  # the old server drains, then stops
    while old_pid is not None and Path(f"/proc/{old_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert files.read_state().draining == []


def test_a_crashing_candidate_fails_fast_and_discarding_it_leaves_the_serving_server(target: LocalTarget) -> None:
    endpoint, old, serving = serving_app(target, "bg-two")
    files = target.apps.files("bg-two")
    with LoadClients(endpoint, files.ensure_api_key(), clients=2) as load:
        candidate = target.apps.start_candidate("bg-two", "model-cache/local/tiny-chat", old)
        assert candidate.revision is not None
        state = files.read_state()
        deadline = time.monotonic() + 60
        while (state.candidate is None or state.candidate.pid is None) and time.monotonic() < deadline:
            state = files.read_state()
            time.sleep(0.05)
        assert state.candidate is not None and state.candidate.pid is not None
        os.kill(state.candidate.pid, signal.SIGKILL)
        verdict = candidate_ready(target, "bg-two", candidate.revision)
        assert f"candidate {candidate.revision} exited" in verdict
        target.apps.discard_candidate("bg-two", candidate.revision)
        replies = load.wait_for(4, after=time.monotonic())
    assert [reply.failure for reply in replies if reply.failure] == []
    assert {reply.version for reply in replies} == {old}
    assert files.read_state().revision == serving and files.read_state().candidate is None


def test_a_gate_whose_expectation_is_not_met_fails_with_a_transcript(target: LocalTarget) -> None:
    endpoint, _, _ = serving_app(target, "bg-three")
    files = target.apps.files("bg-three")
    gate = SmokeGate(prompts=[GatePrompt(prompt="Hello", expect=["text no tiny model writes"])], deadline_s=30)
    result = run_gate(endpoint, files.ensure_api_key(), gate)
    assert not result.passed and "the reply lacks 'text no tiny model writes'" in result.transcript[0].reason
    assert result.transcript[0].reply and files.ensure_api_key() not in result.model_dump_json()


def test_one_replica_at_most_means_no_candidate(target: LocalTarget) -> None:
    serving_app(target, "bg-four")
    files = target.apps.files("bg-four")
    spec = files.read_spec()
    assert spec is not None
    files.write_spec(spec.model_copy(update={"max_replicas": 1}))
    result = target.apps.start_candidate("bg-four", BASE_MODEL, "whatever")
    assert result.revision is None and result.fallback and "at most 1 server" in result.fallback
