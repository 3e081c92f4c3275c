"""The Azure app host against simulated Container Apps running the real inference server on the simulated share."""

import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.appcontainers.models import ContainerApp

from devtools.tiny_model import TinyModelPaths
from payloads.steps import ReadinessResult
from service_settings import get_settings
from share_layout import paths
from targets.azure.apps import SERVER_CODE, AzureApps
from targets.azure.clients import container_apps_client, default_credential
from tests.simulators.container_apps.inference_app import inference_app_body
from tests.simulators.faults import FaultPlan
from tests.simulators.simulated_azure import (
    ENVIRONMENT_ID,
    ENVIRONMENT_STORAGE,
    RESOURCE_GROUP,
    SimulatedContainerApps,
)

pytest_plugins = ["tests.simulators.azure_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

APP = "aiacaapp1a2b3"
BASE_MODEL = "model-cache/local/tiny-chat"
API_KEY = "sk-simulated-0123456789abcdefghijklmnop"
NEW_REVISION = Counter({"GetContainerApp": 1, "ListRevisions": 1, "UpdateContainerApp": 1})
PLAIN_RESTART = Counter({"GetContainerApp": 1, "RestartRevision": 1})


def stage_share(share_dir: Path, tiny_share: TinyModelPaths, versions: tuple[str, ...]) -> None:
    """What fine-tuning, sync and snapshot leave on the share: base model, training adapter, code, adapter versions."""
    shutil.copytree(tiny_share.share_dir, share_dir, dirs_exist_ok=True)
    shutil.copytree(SERVER_CODE, share_dir / paths.INFERENCE_PACKAGE,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for version in versions:
        shutil.copytree(tiny_share.adapter_dir, share_dir / paths.adapter_version_dir(version))


def create_app(wait: bool) -> ContainerApp | None:
    """PUT the app as provisioning does (its first revision serves the training output); wait for the LRO or not."""
    body = inference_app_body(APP, API_KEY, ENVIRONMENT_ID, ENVIRONMENT_STORAGE, BASE_MODEL, paths.TRAINING_ADAPTER)
    poller = container_apps_client(get_settings()).container_apps.begin_create_or_update(
        RESOURCE_GROUP, APP, ContainerApp(body), polling=wait)
    return poller.result(timeout=600) if wait else None


def wait_settled(apps: AzureApps, revision: str, timeout: float = 600) -> ReadinessResult:
    """Probe as the deploy's monitor does, until ready or failed."""
    deadline = time.monotonic() + timeout
    while not (probe := apps.probe(APP, revision)).ready and not probe.failed:
        assert time.monotonic() < deadline, f"{revision} not ready after {timeout} s: {probe.detail}"
        time.sleep(0.5)
    return probe


@pytest.fixture
def azure(simulated_container_apps: SimulatedContainerApps, tiny_share: TinyModelPaths
          ) -> Iterator[SimulatedContainerApps]:
    """The simulated Azure with the share staged; the simulator's runtime must have met no error of its own."""
    stage_share(simulated_container_apps.azure.share_dir, tiny_share, ("v1", "v2"))
    yield simulated_container_apps
    assert simulated_container_apps.service.runtime.errors == []


def test_a_new_adapter_version_rolls_out_a_revision_that_serves_and_the_same_inputs_only_restart_it(
    azure: SimulatedContainerApps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = create_app(wait=True)
    assert created is not None and created.properties is not None
    assert created.properties.provisioning_state == "Succeeded"
    assert created.properties.latest_ready_revision_name == created.properties.latest_revision_name
    apps = azure.apps()

    mark = len(azure.arm.log)
    rolled = apps.restart(APP, BASE_MODEL, "v1")
    assert azure.operations_since(mark) == NEW_REVISION
    assert rolled.revision.startswith(f"{APP}--v1-") and rolled.revision != created.properties.latest_revision_name
    assert rolled.endpoint == azure.record(APP).fqdn
    probe = wait_settled(apps, rolled.revision)
    assert probe.ready, probe.detail
    client = openai.OpenAI(base_url=f"{rolled.endpoint}/v1", api_key=API_KEY, max_retries=0, timeout=120)
    served = [model.id for model in client.models.list()]
    reply = client.chat.completions.create(model=served[-1], messages=[{"role": "user", "content": "hello"}],
                                           temperature=0, max_tokens=4, extra_body={"ignore_eos": True})
    assert reply.usage is not None and reply.usage.completion_tokens == 4 and reply.choices[0].message.content

    mark = len(azure.arm.log)
    again = apps.restart(APP, BASE_MODEL, "v1")
    assert again == rolled and azure.operations_since(mark) == PLAIN_RESTART
    assert len(azure.record(APP).revisions) == 2
    restarting = apps.probe(APP, again.revision)  # the restarted server has to load again
    starting = f"revision {again.revision} is starting: provisioning Provisioned, running Processing, health None"
    assert not restarting.ready and restarting.detail == starting
    probe_after_restart = wait_settled(apps, again.revision)
    assert probe_after_restart.ready, probe_after_restart.detail

    tokens = azure.azure.tokens.issued()
    exposed = [caplog.text, repr(rolled), repr(again), probe.detail, probe_after_restart.detail]
    assert tokens and not [secret for secret in [API_KEY, *tokens] if any(secret in text for text in exposed)]


def test_returning_to_earlier_inputs_rolls_out_a_fresh_revision_with_a_counter(azure: SimulatedContainerApps) -> None:
    create_app(wait=False)
    apps = azure.apps()
    first = apps.restart(APP, BASE_MODEL, "v1").revision
    second = apps.restart(APP, BASE_MODEL, "v2").revision
    back = apps.restart(APP, BASE_MODEL, "v1").revision
    assert len({first, second, back}) == 3 and back == f"{first}-2"
    assert azure.record(APP).latest_revision == back
    assert apps.restart(APP, BASE_MODEL, "v1").revision == back  # the same inputs again: a restart
    probe = wait_settled(apps, back)
    assert probe.ready, probe.detail


def test_a_crash_looping_revision_is_reported_failed_with_what_the_platform_knows(
    azure: SimulatedContainerApps,
) -> None:
    weights = azure.azure.share_dir / BASE_MODEL / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # a base model whose upload was cut short
    create_app(wait=False)
    apps = azure.apps()
    revision = apps.restart(APP, BASE_MODEL, "v1").revision
    probe = wait_settled(apps, revision)
    assert probe.failed and not probe.ready
    # the server SIGTERMs itself when loading fails: a container runtime reports that as exit code 128 + 15
    assert f"revision {revision} failed: Container '{APP}' terminated with exit code 143 3 times" in probe.detail
    assert "CrashLoopBackOff" in probe.detail and f"RevisionName_s == '{revision}'" in probe.detail
    assert "SafetensorError" in azure.service.runtime.log_path(revision).read_text()  # what Log Analytics would show


def test_restart_and_probe_get_through_throttling_busy_replies_and_dropped_connections(
    azure: SimulatedContainerApps,
) -> None:
    create_app(wait=False)
    apps = azure.apps()
    azure.arm.faults = FaultPlan(rate=0.25, kinds=("throttle", "busy", "drop"), seed=9)
    rolled = apps.restart(APP, BASE_MODEL, "v1")
    probe = wait_settled(apps, rolled.revision)
    again = apps.restart(APP, BASE_MODEL, "v1")
    assert probe.ready and again == rolled, probe.detail
    assert wait_settled(apps, again.revision).ready
    injected = Counter(azure.arm.faults.injected)
    assert injected["drop"] and injected["busy"] and injected["throttle"]
    assert len(azure.record(APP).revisions) == 2  # every retried PATCH made one revision


def test_a_patch_whose_reply_was_lost_and_a_restart_whose_connection_dropped_are_repeated_safely(
    azure: SimulatedContainerApps,
) -> None:
    create_app(wait=False)
    apps = azure.apps()
    azure.arm.faults = FaultPlan(rate=1.0, kinds=("lost",), limit=1, when=lambda method, _: method == "PATCH")
    rolled = apps.restart(APP, BASE_MODEL, "v1")
    assert azure.arm.faults.injected == ["lost"] and len(azure.record(APP).revisions) == 2
    azure.arm.faults = FaultPlan(rate=1.0, kinds=("drop",), limit=1, when=lambda method, _: method == "POST")
    mark = len(azure.arm.log)
    assert apps.restart(APP, BASE_MODEL, "v1") == rolled
    assert azure.operations_since(mark) == Counter({"GetContainerApp": 1, "": 1, "RestartRevision": 1})
    probe = wait_settled(apps, rolled.revision)
    assert probe.ready, probe.detail


def test_secrets_change_only_with_their_values_and_a_configuration_change_makes_no_revision(
    azure: SimulatedContainerApps,
) -> None:
    created = create_app(wait=True)
    assert created is not None and created.properties is not None
    client, pids = container_apps_client(get_settings()), azure.service.runtime.pids()
    app = client.container_apps.get(RESOURCE_GROUP, APP)
    assert app.properties is not None and app.properties.configuration is not None
    assert [secret.value for secret in app.properties.configuration.secrets or []] == [None]
    with pytest.raises(HttpResponseError, match="ContainerAppSecretInvalid"):  # a GET→PUT round trip loses them
        client.container_apps.begin_create_or_update(RESOURCE_GROUP, APP, app, polling=False)

    tagged = client.container_apps.begin_update(RESOURCE_GROUP, APP, ContainerApp({"tags": {"team": "ml"}})).result()
    assert tagged.tags == {"team": "ml"} and tagged.properties is not None
    token = default_credential().get_token("https://management.azure.com/.default").token
    auth, secret = {"Authorization": f"Bearer {token}"}, [{"name": "api-key", "value": "sk-rotated"}]
    url = f"{azure.arm.url}{azure.record(APP).id}?api-version=2026-07-01"
    accepted = requests.patch(url, json={"properties": {"configuration": {"secrets": secret}}}, headers=auth,
                              timeout=30)
    assert accepted.status_code == 202 and {"Location", "Azure-AsyncOperation", "Retry-After"} <= set(accepted.headers)
    deadline = time.monotonic() + 60
    while (result := requests.get(accepted.headers["Location"], headers=auth, timeout=30)).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert result.status_code == 200 and result.json()["properties"]["provisioningState"] == "Succeeded"
    assert [secret.value for secret in client.container_apps.list_secrets(RESOURCE_GROUP, APP).value] == ["sk-rotated"]
    assert tagged.properties.latest_revision_name == created.properties.latest_revision_name
    assert len(azure.record(APP).revisions) == 1 and azure.service.runtime.pids() == pids  # nothing restarted


def test_leaving_the_simulator_stops_every_app_process(azure: SimulatedContainerApps) -> None:
    create_app(wait=True)
    pids = azure.service.runtime.pids()
    endpoint = azure.record(APP).fqdn
    assert len(pids) == 1 and httpx.get(f"{endpoint}/health", timeout=30).status_code == 200
    azure.service.runtime.close()  # what leaving the fixture does
    assert azure.service.runtime.pids() == [] and not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{endpoint}/health", timeout=5)
