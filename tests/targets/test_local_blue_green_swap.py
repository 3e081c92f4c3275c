"""In-place adapter swaps on the local target: gated, no request dropped, and kept across a server restart."""

import os
import signal
import time
from datetime import UTC, datetime

import pytest

from devtools.bench_redeploy.load import LoadClients
from payloads.redeploy import GatePrompt, SmokeGate, default_gate
from payloads.steps import DeploymentRecord
from share_layout import paths
from targets.local import LocalTarget
from tests.targets.test_local_apps import wait_ready
from tests.targets.test_local_blue_green import second_version, serving_app

pytestmark = pytest.mark.slow  # starts supervisors and inference servers


def test_a_swap_under_load_drops_nothing_and_survives_a_server_restart(target: LocalTarget) -> None:
    endpoint, old, revision = serving_app(target, "sw-one")
    new = second_version(target, "sw-one", old)
    files = target.apps.files("sw-one")
    with LoadClients(endpoint, files.ensure_api_key(), clients=3) as load:
        load.wait_for(3, after=0)
        result = target.apps.swap_adapter("sw-one", new, default_gate())
        swapped = time.monotonic()
        replies = load.wait_for(6, after=swapped)
    assert result.swapped and result.version == new and result.previous_version == old, result
    assert result.gate is not None and result.gate.passed
    assert [reply.failure for reply in replies if reply.failure] == []
    assert {reply.version for reply in replies} <= {old, new}
    assert {reply.version for reply in replies if reply.started >= swapped} == {new}

    record = DeploymentRecord(app_name="sw-one", endpoint=endpoint, revision=revision, version=new,
                              base_model="model-cache/local/tiny-chat", adapter_hash="a", code_hash="c",
                              deployed_at=datetime.now(UTC), strategy="swap")
    target.share.write_bytes(paths.current_record("sw-one"), record.model_dump_json().encode())  # the record step
    server = files.read_state().pid
    assert server is not None
    os.kill(server, signal.SIGKILL)  # a crash: the same revision comes back, on the swapped-in version
    deadline = time.monotonic() + 60
    while files.read_state().pid in (server, None) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wait_ready(target, "sw-one", revision).ready
    with LoadClients(endpoint, files.ensure_api_key(), clients=1) as load:
        replies = load.wait_for(1, after=0)
    assert {reply.version for reply in replies} == {new}


def test_a_swap_whose_gate_fails_keeps_the_old_version(target: LocalTarget) -> None:
    endpoint, old, _ = serving_app(target, "sw-two")
    new = second_version(target, "sw-two", old)
    gate = SmokeGate(prompts=[GatePrompt(prompt="Hello", expect=["text no tiny model writes"])], deadline_s=30)
    result = target.apps.swap_adapter("sw-two", new, gate)
    assert not result.swapped and result.gate is not None and not result.gate.passed
    with LoadClients(endpoint, target.apps.files("sw-two").ensure_api_key(), clients=1) as load:
        replies = load.wait_for(1, after=0)
    assert {reply.version for reply in replies} == {old}
