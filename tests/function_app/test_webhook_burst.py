"""Ten signed training-complete webhooks for one app within a second, end to end on devhost: each is accepted with
its own request id, the app's deploys never overlap, at most one runs after the one in flight, the app ends on
the tenth adapter, and the history lists all ten as webhook deploys. Run with -s to see the burst's timeline."""

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from devtools.devhost.process import HostProcess
from service_settings import FUNCTION_APP_ROOT
from share_layout import paths
from targets.local.app_files import AppFiles
from targets.local.process_control import stop_all
from tests.function_app.host import HTTP_TIMEOUT, run, status, wait_for
from tests.function_app.test_deploy_queue_e2e import adapter_copy, deploys_never_overlap, parse
from tests.function_app.webhook_helpers import BASE_MODEL, ROUTE, SECRET, body_bytes, signed_headers

pytestmark = pytest.mark.slow  # drives the function app on a devhost process

APP = "wh-burst"
COUNT = 10
SPACING_S = 0.08
"""Ten webhooks 80 ms apart: all sent within 0.75 s, each while the ones before it are still being answered."""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("webhook-burst")


@pytest.fixture(scope="module")
def host(tiny_share, root: Path) -> Iterator[HostProcess]:
    """The function app on devhost with WEBHOOK_SECRET set and a function key (the webhook itself needs none)."""
    shutil.copytree(tiny_share.share_dir, root / "share")
    env = {"LOCAL_TARGET_ROOT": str(root), "READINESS_POLL_SECONDS": "1", "WEBHOOK_SECRET": SECRET}
    with HostProcess(FUNCTION_APP_ROOT, root / "devhost", function_key="burst-key", env=env) as process:
        yield process
    stop_all(root / "apps")


@dataclass(frozen=True)
class Delivery:
    """One webhook of the burst: what was sent, when (seconds from the first), and the answer."""

    webhook_id: str
    run_id: str
    adapter: str
    version: str
    sent_at: float
    answered_at: float
    status_code: int
    answer: dict[str, Any]

    @property
    def request_id(self) -> str:
        return str(self.answer.get("id"))


@dataclass(frozen=True)
class Burst:
    deliveries: list[Delivery]
    finals: dict[str, dict[str, Any]]
    """Each request's final GET /api/status answer, by request id."""
    began: datetime

    @property
    def ids(self) -> list[str]:
        return [delivery.request_id for delivery in self.deliveries]


def send_webhooks(host: HostProcess, adapters: list[tuple[str, str]], spacing: float
                  ) -> tuple[datetime, list[Delivery]]:
    """POST one signed webhook per adapter, each from its own thread, the n-th `n * spacing` s after the first.
    Each is signed just before it is sent, with its own webhook-id and run_id."""
    results: list[Delivery | None] = [None] * len(adapters)
    began = [0.0]
    began_wall = [datetime.now().astimezone()]

    def start_clock() -> None:
        began[0], began_wall[0] = time.monotonic(), datetime.now().astimezone()

    ready = threading.Barrier(len(adapters) + 1, action=start_clock)

    def send(index: int) -> None:
        n = index + 1
        adapter, version = adapters[index]
        webhook_id, run_id = f"msg_burst-{n}", f"run-{n}"
        body = body_bytes(app_name=APP, adapter_path=adapter, base_model=BASE_MODEL, run_id=run_id)
        with httpx.Client(timeout=HTTP_TIMEOUT) as client:
            client.get(host.url("/admin/host/status"))  # connected before the clock starts
            ready.wait()
            time.sleep(max(0.0, began[0] + index * spacing - time.monotonic()))  # this webhook's slot
            sent_at = time.monotonic() - began[0]
            reply = client.post(host.url(f"/api/{ROUTE}"), content=body,
                                headers=signed_headers(body, webhook_id) | {"content-type": "application/json"})
            answered_at = time.monotonic() - began[0]
            try:
                answer = dict(reply.json())
            except ValueError:
                answer = {"text": reply.text}
            results[index] = Delivery(webhook_id, run_id, adapter, version, sent_at, answered_at,
                                      reply.status_code, answer)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(adapters))]
    for thread in threads:
        thread.start()
    ready.wait()  # the clock starts once every thread is connected
    for thread in threads:
        thread.join()
    assert all(result is not None for result in results), f"a webhook got no answer: {results}"
    return began_wall[0], [result for result in results if result is not None]


def timeline(burst: Burst) -> str:
    """When each webhook was sent and answered and what became of it, then which deploys ran when."""
    ids = burst.ids
    lines = ["webhook burst timeline (seconds from the first webhook):"]
    for n, delivery in enumerate(burst.deliveries, 1):
        final = burst.finals[delivery.request_id]
        output = final.get("output") or {}
        outcome = (f"superseded by #{ids.index(output['superseded_by']) + 1}" if final["name"] == "deploy_superseded"
                   else f"deployed {output.get('version')} ({final['runtimeStatus']})")
        lines.append(f"  #{n:<2} {delivery.webhook_id:<13} sent {delivery.sent_at:6.3f}  "
                     f"{delivery.status_code} at {delivery.answered_at:6.3f}  {delivery.request_id}  -> {outcome}")
    for request_id, final in burst.finals.items():
        if final["name"] == "deploy":
            ran = (parse(final["createdTime"]) - burst.began).total_seconds()
            ended = (parse(final["lastUpdatedTime"]) - burst.began).total_seconds()
            lines.append(f"  deploy #{ids.index(request_id) + 1} ran {ran:7.3f} .. {ended:7.3f}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def burst(host: HostProcess, root: Path) -> Burst:
    """App APP provisioned, ten adapters on the share, ten signed webhooks naming them within a second, and every
    request's final status; the timeline printed."""
    assert run(host, "provision", {"app_name": APP})["runtimeStatus"] == "Completed"
    share = root / "share"
    adapters = [adapter_copy(share, f"wh-burst-{n}", f"webhook burst adapter {n}") for n in range(1, COUNT + 1)]
    assert len({version for _, version in adapters}) == COUNT
    began, deliveries = send_webhooks(host, adapters, SPACING_S)
    assert all(delivery.status_code == 202 for delivery in deliveries), [
        (delivery.webhook_id, delivery.status_code, delivery.answer) for delivery in deliveries]
    ids = [delivery.request_id for delivery in deliveries]
    wait_for(host, ids[-1], timeout=300)
    finals = {request_id: wait_for(host, request_id, timeout=300) for request_id in ids}
    result = Burst(deliveries, finals, began)
    print("\n" + timeline(result))
    return result


def test_every_webhook_is_accepted_within_a_second_with_its_own_request_id(burst: Burst) -> None:
    deliveries = burst.deliveries
    assert deliveries[-1].sent_at < 1.0, f"the ten webhooks took {deliveries[-1].sent_at:.2f} s to send"
    assert len(set(burst.ids)) == COUNT
    for delivery in deliveries:
        assert delivery.status_code == 202 and delivery.answer["duplicate"] is False, delivery
        assert delivery.request_id.startswith(f"deploy_{APP}_wh_"), delivery
        assert delivery.answer["requestId"] == delivery.request_id
        assert delivery.answer["statusUrl"] == f"/api/status/{delivery.request_id}"


def test_deploys_never_overlap_and_at_most_one_runs_after_the_one_in_flight(burst: Burst) -> None:
    deploys_never_overlap(list(burst.finals.values()))
    deployed = [request_id for request_id in burst.ids if burst.finals[request_id]["name"] == "deploy"]
    assert deployed == [burst.ids[0], burst.ids[-1]], "not: the first in flight, then only the newest"
    assert all(burst.finals[request_id]["runtimeStatus"] == "Completed" for request_id in deployed)


def test_the_app_ends_serving_the_tenth_adapter(burst: Burst, root: Path) -> None:
    last = burst.deliveries[-1]
    output = burst.finals[last.request_id]["output"]
    assert output["version"] == last.version, output
    current = json.loads((root / "share" / paths.current_record(APP)).read_text())
    assert current["version"] == last.version
    client = OpenAI(base_url=f"{output['endpoint']}/v1", api_key=AppFiles(root / "apps" / APP).ensure_api_key(),
                    timeout=120)
    assert last.version in {model.id for model in client.models.list()}


def test_each_superseded_request_names_the_tenth_as_its_replacement(host: HostProcess, burst: Burst) -> None:
    tenth = burst.ids[-1]
    for request_id in burst.ids[1:-1]:
        current = status(host, request_id)
        assert current["name"] == "deploy_superseded" and current["runtimeStatus"] == "Completed", current
        assert current["output"]["result"] == "superseded" and current["output"]["superseded_by"] == tenth
        assert tenth in current["output"]["message"] and current["customStatus"]["superseded_by"] == tenth


def test_the_history_lists_all_ten_as_webhook_deploys_with_their_ids_and_results(host: HostProcess,
                                                                                 burst: Burst) -> None:
    reply = httpx.get(host.url(f"/api/apps/{APP}/deployments"), headers={"x-functions-key": host.key or ""},
                      timeout=HTTP_TIMEOUT)
    assert reply.status_code == 200, reply.text
    rows = {row["request_id"]: row for row in reply.json()["deployments"]}
    assert set(rows) == set(burst.ids)
    for delivery in burst.deliveries:
        row = rows[delivery.request_id]
        trigger = row["trigger"]
        assert trigger["kind"] == "webhook" and trigger["webhook_id"] == delivery.webhook_id, row
        assert trigger["run_id"] == delivery.run_id and len(trigger["body_sha256"]) == 64, row
        assert row["adapter_source"] == delivery.adapter and row["base_model"] == BASE_MODEL, row
    tenth, first = burst.ids[-1], burst.ids[0]
    assert rows[first]["result"] == rows[tenth]["result"] == "succeeded"
    assert rows[tenth]["version"] == burst.deliveries[-1].version
    for request_id in burst.ids[1:-1]:
        assert rows[request_id]["result"] == "superseded" and rows[request_id]["superseded_by"] == tenth
        assert rows[request_id]["started_at"] is None
    newest_first = [row["request_id"] for row in reply.json()["deployments"]]
    assert newest_first == burst.ids[::-1], "the history is not in the order the webhooks arrived"
