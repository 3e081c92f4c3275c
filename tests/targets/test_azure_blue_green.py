"""Blue-green on Azure against simulated Container Apps running the real inference server: a candidate beside the
serving revision with no traffic, reached by its own URL; promote moves traffic in one update with no failed
request on the endpoint; discard leaves traffic alone; no second replica → fallback."""

import logging
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from azure.mgmt.appcontainers.models import ContainerApp

from payloads.steps import ReadinessResult
from service_settings import get_settings
from share_layout import paths
from targets.azure.apps import AzureApps
from targets.azure.clients import container_apps_client
from tests.simulators.container_apps.inference_app import inference_app_body
from tests.simulators.simulated_azure import (
    ENVIRONMENT_ID,
    ENVIRONMENT_STORAGE,
    RESOURCE_GROUP,
    SimulatedContainerApps,
)
from tests.targets import test_azure_apps

pytest_plugins = ["tests.simulators.azure_fixtures"]
azure = test_azure_apps.azure  # the same fixture: the share staged with v1 and v2, no simulator error
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

APP = "aiacaapp1a2b3"
BASE_MODEL = "model-cache/local/tiny-chat"
API_KEY = "sk-simulated-0123456789abcdefghijklmnop"
ADMIN_KEY = "admin-simulated-0123456789abcdefghij"


def create_app(wait: bool = True, **scale: Any) -> str:
    """PUT the app as provisioning does; the name of its first revision."""
    body = inference_app_body(APP, API_KEY, ENVIRONMENT_ID, ENVIRONMENT_STORAGE, BASE_MODEL, paths.TRAINING_ADAPTER,
                              admin_key=ADMIN_KEY)
    body["properties"]["template"]["scale"].update(scale)
    poller = container_apps_client(get_settings()).container_apps.begin_create_or_update(
        RESOURCE_GROUP, APP, ContainerApp(body), polling=wait)
    app = poller.result(timeout=600) if wait else container_apps_client(get_settings()).container_apps.get(
        RESOURCE_GROUP, APP)
    assert app.properties is not None and app.properties.latest_revision_name
    return app.properties.latest_revision_name


def answering_revision(url: str) -> str | None:
    reply = httpx.get(f"{url}/ready", timeout=30)
    return reply.json().get("revision") if reply.status_code == 200 else None


def wait_candidate(apps: AzureApps, revision: str, timeout: float = 600) -> ReadinessResult:
    deadline = time.monotonic() + timeout
    while not (probe := apps.probe_candidate(APP, revision)).ready and not probe.failed:
        assert time.monotonic() < deadline, f"{revision} not ready after {timeout} s: {probe.detail}"
        time.sleep(0.5)
    return probe


class EndpointWatch:
    """Calls the app's endpoint over and over in a thread, keeping every answer (status and revision)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.answers: list[tuple[int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    reply = client.get(f"{self.endpoint}/ready")
                    self.answers.append((reply.status_code, reply.json().get("revision")))
                except (httpx.HTTPError, ValueError) as error:
                    self.answers.append((0, type(error).__name__))

    def __enter__(self) -> "EndpointWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def test_a_candidate_serves_beside_the_current_revision_and_promote_moves_all_traffic_without_a_failed_request(
    azure: SimulatedContainerApps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    blue = create_app()
    apps = azure.apps()
    endpoint = azure.record(APP).fqdn
    assert answering_revision(endpoint) == blue

    discarded = apps.start_candidate(APP, BASE_MODEL, "v1")
    assert discarded.revision and discarded.fallback is None
    apps.discard_candidate(APP, discarded.revision)
    record = azure.record(APP)
    assert record.weights() == {blue: 100} and not record.revisions[discarded.revision].active
    assert answering_revision(endpoint) == blue

    mark = len(azure.arm.log)
    candidate = apps.start_candidate(APP, BASE_MODEL, "v1")
    assert candidate.revision and candidate.url and candidate.fallback is None
    assert candidate.revision.startswith(f"{APP}--v1-") and candidate.revision != discarded.revision
    assert azure.operations_since(mark)["UpdateContainerApp"] == 1
    assert apps.start_candidate(APP, BASE_MODEL, "v1") == candidate  # a repeated start finds it
    probe = wait_candidate(apps, candidate.revision)
    assert probe.ready, probe.detail
    assert answering_revision(candidate.url) == candidate.revision  # the gate reaches it by its own URL
    assert {answering_revision(endpoint) for _ in range(10)} == {blue}  # users still get the serving revision
    assert azure.record(APP).weights() == {blue: 100}

    with EndpointWatch(endpoint) as watch:
        while len(watch.answers) < 5:
            time.sleep(0.05)
        mark = len(azure.arm.log)
        promoted = apps.promote(APP, candidate.revision)
        deadline = time.monotonic() + 60
        while not [answer for answer in watch.answers[-3:] if answer[1] == candidate.revision]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert promoted.previous_revision == blue and promoted.endpoint == endpoint
    operations = azure.operations_since(mark)
    assert operations["UpdateContainerApp"] == 1 and operations["DeactivateRevision"] >= 1
    assert [answer for answer in watch.answers if answer[0] != 200] == []  # no failed request
    seen = [revision for _, revision in watch.answers]
    assert seen[0] == blue and seen[-1] == candidate.revision
    assert seen.index(candidate.revision) > max(i for i, revision in enumerate(seen) if revision == blue)
    record = azure.record(APP)
    assert record.weights() == {candidate.revision: 100} and not record.revisions[blue].active
    traffic = record.configuration["ingress"]["traffic"]
    assert traffic == [{"revisionName": candidate.revision, "weight": 100, "label": "current"}]
    assert apps.promote(APP, candidate.revision).revision == candidate.revision  # repeated: nothing moves

    exposed = [caplog.text, repr(discarded), repr(candidate), repr(promoted), probe.detail]
    assert not [secret for secret in (API_KEY, ADMIN_KEY) if any(secret in text for text in exposed)]


def test_a_restart_after_blue_green_goes_back_to_single_mode(azure: SimulatedContainerApps) -> None:
    blue = create_app(wait=False)
    apps = azure.apps()
    candidate = apps.start_candidate(APP, BASE_MODEL, "v1")
    assert candidate.revision and azure.record(APP).configuration["activeRevisionsMode"] == "Multiple"
    restarted = apps.restart(APP, BASE_MODEL, "v2")
    record = azure.record(APP)
    assert record.configuration["activeRevisionsMode"] == "Single"
    assert [name for name, revision in record.revisions.items() if revision.active] == [restarted.revision]
    assert blue != restarted.revision
    deadline = time.monotonic() + 600
    while not (probe := apps.probe(APP, restarted.revision)).ready:
        assert not probe.failed and time.monotonic() < deadline, probe.detail
        time.sleep(0.5)


def test_no_room_for_a_second_replica_is_a_fallback_and_writes_nothing(azure: SimulatedContainerApps) -> None:
    create_app(wait=False, minReplicas=2)  # the dedicated GPU profile has 2 nodes, both serving
    apps = azure.apps()
    deadline = time.monotonic() + 600
    while len(azure.record(APP).revisions) and not any(r.replica_count() for r in azure.record(APP).revisions.values()):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    mark = len(azure.arm.log)
    result = apps.start_candidate(APP, BASE_MODEL, "v1")
    assert result.revision is None and result.fallback and "2 node(s)" in result.fallback
    assert "UpdateContainerApp" not in azure.operations_since(mark) and len(azure.record(APP).revisions) == 1

    swapped = apps.swap_adapter(APP, "v2", None)  # 2 replicas: the admin route would reach one
    assert not swapped.swapped and swapped.unsupported and "2 replicas" in swapped.detail


def test_serverless_gpu_quota_refusing_a_second_revision_is_a_fallback(azure: SimulatedContainerApps) -> None:
    azure.service.environments[(RESOURCE_GROUP.lower(), "aienv")].document["properties"]["workloadProfiles"] = [
        {"workloadProfileType": "Consumption", "name": "Consumption"},
        {"workloadProfileType": "Consumption-GPU-NC8as-T4", "name": "GPU"}]
    azure.service.gpu_quota = 2
    blue = create_app(wait=False)
    result = azure.apps().start_candidate(APP, BASE_MODEL, "v1")
    assert result.revision is None and result.fallback and "MaxRegionalQuotaExceeded" in result.fallback
    record = azure.record(APP)
    assert list(record.revisions) == [blue] and record.configuration["activeRevisionsMode"] == "Single"
    assert Counter(r.active for r in record.revisions.values()) == Counter({True: 1})
