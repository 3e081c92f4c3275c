"""Deploy requests through the function app on devhost: one deploy per app at a time, newest request next,
every request with a status and a place in the app's history. Run with -s to see the burst's timeline."""

import itertools
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.devhost.process import HostProcess
from share_layout import paths
from share_layout.manifest import digest, manifest_of_directory
from targets.local.process_control import stop_all
from tests.function_app.host import HTTP_TIMEOUT, local_host, run, start, status, wait_for

pytestmark = pytest.mark.slow  # drives the function app on a devhost process

BASE_MODEL = "model-cache/local/tiny-chat"
SPACING_S = 0.08
"""Ten requests 80 ms apart: all sent within 0.75 s, each while the ones before it are still being answered."""


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's local target keeps its share and apps."""
    return tmp_path_factory.mktemp("deploy-queue")


@pytest.fixture(scope="module")
def host(tiny_share, local_root: Path) -> Iterator[HostProcess]:
    """The function app on devhost with a function key, its local target in a temporary directory."""
    with local_host(tiny_share, local_root, "queue-key") as process:
        yield process
    stop_all(local_root / "apps")


def get(host: HostProcess, route: str) -> httpx.Response:
    """GET /api/<route> with the function key."""
    return httpx.get(host.url(f"/api/{route}"), headers={"x-functions-key": host.key or ""}, timeout=HTTP_TIMEOUT)


def adapter_copy(share: Path, name: str, note: str) -> tuple[str, str]:
    """A copy of the training adapter with one more file (so another content hash); its path and version."""
    relative = f"models/variants/{name}"
    shutil.copytree(share / paths.TRAINING_ADAPTER, share / relative)
    (share / relative / "note.txt").write_text(note)
    return relative, digest(manifest_of_directory(share / relative))[:12]


def send_spaced(host: HostProcess, bodies: list[dict[str, Any]],
                spacing: float) -> tuple[datetime, list[tuple[str, float, float]]]:
    """POST each body to /api/deploy from its own thread, the n-th `n * spacing` seconds after the first (so they
    overlap, yet arrive in order). When the first was sent, and each request's id, when it was sent and when its
    202 came, in seconds from then."""
    results: list[tuple[str, float, float] | None] = [None] * len(bodies)
    began = [0.0]
    began_wall = [datetime.now().astimezone()]

    def start_clock() -> None:
        began[0], began_wall[0] = time.monotonic(), datetime.now().astimezone()

    ready = threading.Barrier(len(bodies) + 1, action=start_clock)

    def send(index: int) -> None:
        with httpx.Client(headers={"x-functions-key": host.key or ""}, timeout=HTTP_TIMEOUT) as client:
            client.get(host.url("/admin/host/status"))  # connected before the clock starts
            ready.wait()
            time.sleep(max(0.0, began[0] + index * spacing - time.monotonic()))  # this request's slot
            sent_at = time.monotonic() - began[0]
            reply = client.post(host.url("/api/deploy"), json=bodies[index])
            assert reply.status_code == 202, reply.text
            assert reply.headers["location"].endswith(f"/api/status/{reply.json()['id']}")
            results[index] = (reply.json()["id"], sent_at, time.monotonic() - began[0])

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    ready.wait()  # the clock starts once every thread is connected
    for thread in threads:
        thread.join()
    assert all(result is not None for result in results), "a request was not accepted"
    return began_wall[0], [result for result in results if result is not None]


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def timeline(sent: list[tuple[str, float, float]], finals: dict[str, dict[str, Any]], began: datetime) -> str:
    """Arrival times and what became of each request, one line each, then which deploys ran when."""
    lines = ["burst timeline (seconds from the first request):"]
    for n, (request_id, sent_at, answered_at) in enumerate(sent, 1):
        final = finals[request_id]
        outcome = (f"superseded by #{[r for r, _, _ in sent].index(final['output']['superseded_by']) + 1}"
                   if final["name"] == "deploy_superseded" else f"deployed {final['output']['version']}")
        lines.append(f"  #{n:<2} sent {sent_at:6.3f}  202 at {answered_at:6.3f}  {request_id}  -> {outcome}")
    for request_id, final in finals.items():
        if final["name"] == "deploy":
            ran = (parse(final["createdTime"]) - began).total_seconds()
            ended = (parse(final["lastUpdatedTime"]) - began).total_seconds()
            lines.append(f"  deploy #{[r for r, _, _ in sent].index(request_id) + 1} ran {ran:6.3f} .. {ended:6.3f}")
    return "\n".join(lines)


def deploys_never_overlap(finals: list[dict[str, Any]]) -> None:
    runs = sorted((parse(f["createdTime"]), parse(f["lastUpdatedTime"])) for f in finals if f["name"] == "deploy")
    for (_, ended), (next_start, _) in itertools.pairwise(runs):
        assert next_start >= ended, f"two deploys of one app overlapped: {runs}"


def test_ten_requests_within_a_second_deploy_one_at_a_time_and_end_on_the_tenth(
    host: HostProcess, local_root: Path
) -> None:
    assert run(host, "provision", {"app_name": "burst"})["runtimeStatus"] == "Completed"
    share = local_root / "share"
    variants = [adapter_copy(share, f"burst-{n}", f"adapter {n}") for n in range(1, 11)]
    began_wall, sent = send_spaced(host, [{"app_name": "burst", "base_model": BASE_MODEL, "adapter_source": source}
                              for source, _ in variants], spacing=SPACING_S)
    assert sent[-1][1] < 1.0, f"the ten requests took {sent[-1][1]:.2f} s to send: {sent}"
    ids = [request_id for request_id, _, _ in sent]
    assert len(set(ids)) == 10

    last = wait_for(host, ids[-1], timeout=300)
    finals = {request_id: wait_for(host, request_id, timeout=300) for request_id in ids}
    print("\n" + timeline(sent, finals, began_wall))

    assert last["runtimeStatus"] == "Completed", last
    assert last["output"]["version"] == variants[-1][1]
    first = finals[ids[0]]["output"]  # the first deploy restarts (nothing served); the tenth, only a new adapter, swaps
    assert (first["strategy"], last["output"]["strategy"]) == ("restart", "swap"), last["customStatus"]
    assert first["revision"] == last["output"]["revision"] == "burst--1"
    current = (share / paths.current_record("burst")).read_text()
    assert f'"version": "{variants[-1][1]}"' in current
    deployed = [request_id for request_id in ids if finals[request_id]["name"] == "deploy"]
    assert deployed == [ids[0], ids[-1]], "more than one deploy ran after the one in flight"
    for request_id in ids[1:-1]:
        final = finals[request_id]
        assert final["name"] == "deploy_superseded" and final["runtimeStatus"] == "Completed", final
        assert final["output"]["result"] == "superseded" and final["output"]["superseded_by"] == ids[-1]
    deploys_never_overlap(list(finals.values()))

    history = get(host, "apps/burst/deployments")
    assert history.status_code == 200, history.text
    rows = history.json()["deployments"]
    assert [row["request_id"] for row in rows] == ids[::-1]  # newest first
    assert [row["result"] for row in rows] == ["succeeded"] + ["superseded"] * 8 + ["succeeded"]
    assert (rows[0]["strategy"], rows[-1]["strategy"]) == ("swap", "restart")
    assert {row.get("superseded_by") for row in rows[1:-1]} == {ids[-1]}
    assert all(row["trigger"]["kind"] == "user" and row["base_model"] == BASE_MODEL for row in rows)
    assert rows[0]["started_at"] and rows[0]["finished_at"] and rows[1]["started_at"] is None


def test_a_request_waiting_behind_a_deploy_has_a_pending_status_naming_what_it_waits_for(host: HostProcess) -> None:
    assert run(host, "provision", {"app_name": "waiter"})["runtimeStatus"] == "Completed"
    body = {"app_name": "waiter", "base_model": BASE_MODEL}
    first = start(host, "deploy", body).json()["id"]
    second = start(host, "deploy", body | {"strategy": "restart"}).json()["id"]  # a new revision once it runs
    waiting = status(host, second)
    if waiting["runtimeStatus"] == "Pending":  # the first deploy takes seconds: the second waits behind it
        assert waiting["customStatus"]["step"] == "queued" and waiting["customStatus"]["queued_behind"] == first
        assert first in waiting["customStatus"]["message"] and waiting["createdTime"].endswith("Z")
    assert wait_for(host, first)["runtimeStatus"] == "Completed"
    assert wait_for(host, second)["output"]["revision"] == "waiter--2"
    missing = get(host, "status/deploy_waiter_20260101T000000000000_abcd")
    assert missing.status_code == 404


def test_history_lists_every_request_and_a_rollback_copies_nothing_and_serves_the_earlier_adapter(
    host: HostProcess, local_root: Path
) -> None:
    assert run(host, "provision", {"app_name": "hist"})["runtimeStatus"] == "Completed"
    share = local_root / "share"
    body = {"app_name": "hist", "base_model": BASE_MODEL}
    first = run(host, "deploy", body)
    assert first["runtimeStatus"] == "Completed", first
    source, newer_version = adapter_copy(share, "hist-2", "the second adapter")
    second = run(host, "deploy", body | {"adapter_source": source})
    assert second["output"]["version"] == newer_version != first["output"]["version"]

    earlier = first["output"]["version"]
    rollback = run(host, "deploy", body | {"version": earlier, "adapter_source": "models/gone"})
    assert rollback["runtimeStatus"] == "Completed", rollback
    assert rollback["output"]["version"] == earlier
    assert rollback["output"]["changes"]["adapter_files_copied"] == 0
    assert f'"version": "{earlier}"' in (share / paths.current_record("hist")).read_text()
    endpoint = rollback["output"]["endpoint"]
    served = httpx.get(f"{endpoint}/health", timeout=HTTP_TIMEOUT)
    assert served.status_code == 200

    rows = get(host, "apps/hist/deployments").json()["deployments"]
    assert [row["request_id"] for row in rows] == [rollback["instanceId"], second["instanceId"], first["instanceId"]]
    assert [row["version"] for row in rows] == [earlier, newer_version, earlier]
    assert all(row["result"] == "succeeded" and row["trigger"] == {"kind": "user", "webhook_id": None,
                                                                   "run_id": None, "body_sha256": None}
               for row in rows)
    assert all(row["requested_at"] <= row["started_at"] <= row["finished_at"] for row in rows)
    assert get(host, "apps/never-seen/deployments").status_code == 404


def test_a_manually_registered_app_deploys_by_name_and_is_listed_with_what_serves(host: HostProcess) -> None:
    assert run(host, "provision", {"app_name": "manual-chat"})["runtimeStatus"] == "Completed"
    config = {"target": "local", "SUBSCRIPTION_ID": "local", "RESOURCE_GROUP_NAME": "local",
              "STORAGE_ACCOUNT_NAME": "local", "FILE_SHARE_NAME": "local-share", "ACA_APP_NAME": "manual-chat",
              "ACA_APP_ENDPOINT": "http://127.0.0.1:1"}
    registered = start(host, "apps", config)
    assert registered.status_code == 200, registered.text
    assert registered.json()["app"]["source"] == "manual" and registered.json()["instanceId"] == "app_manual-chat"
    bad = start(host, "apps", config | {"ACA_APP_ENDPOINT": "ftp://x", "colour": "red"})
    assert bad.status_code == 400 and {f["field"] for f in bad.json()["error"]["fields"]} == {
        "ACA_APP_ENDPOINT", "colour"}

    deployed = run(host, "deploy", {"app_name": "manual-chat", "base_model": BASE_MODEL})
    assert deployed["runtimeStatus"] == "Completed", deployed

    apps = {app["name"]: app for app in get(host, "apps").json()["apps"]}
    listed = apps["manual-chat"]
    assert listed["target"] == "local" and listed["endpoint"] == "http://127.0.0.1:1" and listed["deploying"] is None
    assert listed["serving"]["version"] == deployed["output"]["version"]
    assert listed["serving"]["revision"] == deployed["output"]["revision"]
    assert listed["serving"]["deployed_at"].endswith("Z")
