"""The function app's HTTP API over the local host: validation, keys, status, provision and deploy."""

import itertools
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from activities.sync_share import SERVER_SOURCE
from devtools.devhost.process import HostProcess
from share_layout import paths
from share_layout.manifest import digest, manifest_of_directory
from targets.local.app_files import AppFiles
from targets.local.process_control import stop_all
from tests.function_app.host import (
    HTTP_TIMEOUT,
    durable_status,
    instances,
    local_host,
    post_raw,
    run,
    start,
    status,
    wait_for,
)

pytestmark = pytest.mark.slow  # drives the function app on a devhost process

BASE_MODEL = "model-cache/local/tiny-chat"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's local target keeps its share and apps."""
    return tmp_path_factory.mktemp("local-target")


@pytest.fixture(scope="module")
def host(tiny_share, local_root: Path) -> Iterator[HostProcess]:
    """The function app on devhost with a function key, its local target in a temporary directory."""
    with local_host(tiny_share, local_root, "test-key") as process:
        yield process
    stop_all(local_root / "apps")


BAD_BODIES = [
    ("provision", {"app_name": "Not_Valid"}, "app_name"),
    ("provision", {"port": 80}, "port"),
    ("provision", {"port": "8080"}, "port"),
    ("provision", {"port": True}, "port"),
    ("provision", {"target": "gcp"}, "target"),
    ("provision", {"colour": "red"}, "colour"),
    ("provision", [1, 2], "JSON object"),
    ("deploy", {}, "base_model"),
    ("deploy", {"base_model": "../outside"}, "base_model"),
    ("deploy", {"base_model": "/abs/path"}, "base_model"),
    ("deploy", {"base_model": BASE_MODEL, "readiness_timeout_s": 0}, "readiness_timeout_s"),
    ("deploy", {"base_model": BASE_MODEL, "readiness_timeout_s": "10"}, "readiness_timeout_s"),
    ("deploy", {"base_model": BASE_MODEL, "version": "no spaces allowed"}, "version"),
    ("deploy", {"base_model": BASE_MODEL, "adapter_source": ""}, "adapter_source"),
    ("deploy", {"base_model": "model-cache/" + "x" * 256}, "base_model"),
    ("deploy", {"base_model": "model-cache/a\x00b"}, "base_model"),
    ("deploy", {"base_model": BASE_MODEL, "adapter_source": "a/" * 600}, "adapter_source"),
]


@pytest.mark.parametrize(("route", "body", "named"), BAD_BODIES)
def test_bad_body_is_400_naming_the_field_and_starts_nothing(host: HostProcess, route, body, named) -> None:
    before = len(instances(host))
    reply = start(host, route, body)
    assert reply.status_code == 400, reply.text
    assert named in reply.json()["error"]["message"]
    assert len(instances(host)) == before


def test_invalid_json_is_400_and_starts_nothing(host: HostProcess) -> None:
    before = len(instances(host))
    for route in ("provision", "deploy"):
        reply = post_raw(host, route, b"{not json", None)
        assert reply.status_code == 400 and "not valid JSON" in reply.json()["error"]["message"]
    assert len(instances(host)) == before


def test_json_nested_too_deeply_is_400_naming_the_body(host: HostProcess) -> None:
    nested = b'{"base_model": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    reply = post_raw(host, "deploy", nested, "application/json")
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["fields"][0]["field"] == "body"
    assert "nested too deeply" in reply.json()["error"]["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_by_its_content_type_is_415_and_starts_nothing(host: HostProcess,
                                                                               content_type: str) -> None:
    before = len(instances(host))
    for route in ("provision", "deploy"):
        reply = post_raw(host, route, json.dumps({"app_name": "typed"}).encode(), content_type)
        assert reply.status_code == 415, reply.text
        assert "Content-Type: application/json" in reply.json()["error"]["message"]
    assert len(instances(host)) == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json", None])
def test_json_content_types_and_none_are_read_as_json(host: HostProcess, content_type: str | None) -> None:
    reply = post_raw(host, "deploy", b"{}", content_type)
    assert reply.status_code == 400 and "base_model" in reply.json()["error"]["message"]  # parsed, then validated


def test_a_body_over_the_size_limit_is_413_at_once_and_the_host_keeps_answering(host: HostProcess) -> None:
    body = json.dumps({"app_name": "big", "base_model": BASE_MODEL, "adapter_source": "a/" * 2_000_000}).encode()
    reply = post_raw(host, "deploy", body, "application/json")
    assert reply.status_code == 413, reply.text[:300]
    assert "larger than" in reply.json()["error"]["message"]
    assert status_of_unknown(host).status_code == 404


def test_a_huge_bad_value_is_quoted_only_by_a_bounded_prefix_in_the_answer_and_the_log(host: HostProcess) -> None:
    body = {"base_model": "../" + "x" * 1000, "y" * 500_000: 1}
    reply = start(host, "deploy", body)
    assert reply.status_code == 400
    assert len(reply.content) < 2_000, len(reply.content)
    assert "x" * 100 not in reply.text and "y" * 100 not in reply.text
    assert "x" * 100 not in host.logs() and "y" * 100 not in host.logs()


@pytest.mark.parametrize("headers", [{}, {"x-functions-key": "wrong"}])
def test_missing_or_wrong_function_key_is_401_and_starts_nothing(host: HostProcess, headers) -> None:
    before = len(instances(host))
    for route in ("provision", "deploy"):
        reply = httpx.post(host.url(f"/api/{route}"), json={"base_model": BASE_MODEL}, headers=headers,
                           timeout=HTTP_TIMEOUT)
        assert reply.status_code == 401
    assert httpx.get(host.url("/api/status/anything"), headers=headers, timeout=HTTP_TIMEOUT).status_code == 401
    assert len(instances(host)) == before


def status_of_unknown(host: HostProcess) -> httpx.Response:
    return httpx.get(host.url("/api/status/no-such-instance"), params={"code": "test-key"}, timeout=HTTP_TIMEOUT)


def test_status_of_unknown_instance_is_404(host: HostProcess) -> None:
    reply = status_of_unknown(host)
    assert reply.status_code == 404 and "no-such-instance" in reply.json()["error"]["message"]


def test_status_times_are_iso_8601_as_the_durable_api_writes_them(host: HostProcess) -> None:
    finished = run(host, "provision", {"app_name": "timed"})
    ours, durable = status(host, finished["instanceId"]), durable_status(host, finished["instanceId"])
    for name in ("createdTime", "lastUpdatedTime"):
        assert ISO_UTC.match(ours[name]), ours[name]
        assert ours[name] == durable[name]


MISSING_ON_TARGET = [
    ({"app_name": "never-made", "base_model": BASE_MODEL}, {"app_name": "POST /api/provision first"}),
    ({"app_name": "checked", "base_model": "model-cache/org/absent"}, {"base_model": "no base model"}),
    ({"app_name": "checked", "base_model": BASE_MODEL, "adapter_source": "models/none"}, {"adapter_source": "no LoRA"}),
    ({"app_name": "checked", "base_model": BASE_MODEL, "adapter_source": "models/none", "version": "never-made"},
     {"adapter_source": "no LoRA"}),
    ({"app_name": "never-made", "base_model": "model-cache/x", "adapter_source": "models/none"},
     {"app_name": "not provisioned", "base_model": "no base model", "adapter_source": "no LoRA"}),
    ({"app_name": "checked", "base_model": "model-cache/linked-out"}, {"base_model": "outside the share"}),
    ({"app_name": "checked", "base_model": BASE_MODEL, "adapter_source": "models/linked-out"},
     {"adapter_source": "outside the share"}),
    ({"app_name": "checked", "base_model": BASE_MODEL, "adapter_source": "models/one-file-linked-out"},
     {"adapter_source": "outside the share"}),
]


@pytest.fixture(scope="module")
def links_out_of_the_share(local_root: Path) -> None:
    """A base model and an adapter that are links out of the share, and an adapter with one file linked out."""
    share, outside = local_root / "share", local_root / "outside"
    shutil.copytree(share / BASE_MODEL, outside / "base")
    shutil.copytree(share / paths.TRAINING_ADAPTER, outside / "adapter")
    (share / "model-cache" / "linked-out").symlink_to(outside / "base")
    (share / "models" / "linked-out").symlink_to(outside / "adapter")
    partly = share / "models" / "one-file-linked-out"
    shutil.copytree(share / paths.TRAINING_ADAPTER, partly)
    (partly / "adapter_model.safetensors").unlink()
    (partly / "adapter_model.safetensors").symlink_to(outside / "adapter" / "adapter_model.safetensors")


@pytest.mark.usefixtures("links_out_of_the_share")
@pytest.mark.parametrize(("body", "expected"), MISSING_ON_TARGET)
def test_deploy_naming_what_the_target_lacks_is_400_and_starts_nothing(host: HostProcess, local_root: Path, body,
                                                                       expected) -> None:
    assert run(host, "provision", {"app_name": "checked"})["runtimeStatus"] == "Completed"
    before = len(instances(host))
    snapshots = sorted((local_root / "share" / paths.ADAPTER_VERSIONS).glob("*"))
    reply = start(host, "deploy", body)
    assert reply.status_code == 400, reply.text
    fields = {item["field"]: item["message"] for item in reply.json()["error"]["fields"]}
    assert fields.keys() == expected.keys()
    assert all(words in fields[name] for name, words in expected.items()), fields
    assert len(instances(host)) == before
    assert sorted((local_root / "share" / paths.ADAPTER_VERSIONS).glob("*")) == snapshots  # no snapshot begun


def test_provision_deploy_and_redeploy(host: HostProcess, local_root: Path) -> None:
    root = local_root
    provisioned = run(host, "provision", {"app_name": "chat-one"})
    assert provisioned["runtimeStatus"] == "Completed", provisioned
    endpoint = provisioned["output"]["ACA_APP_ENDPOINT"]
    assert endpoint.startswith("http://127.0.0.1:")

    deployed = run(host, "deploy", {"app_name": "chat-one", "base_model": BASE_MODEL})
    assert deployed["runtimeStatus"] == "Completed", deployed
    record = deployed["output"]
    assert record["endpoint"] == endpoint and record["revision"] == "chat-one--1"
    synced = root / "share" / "inference" / "inference_container"
    assert record["code_hash"] == digest(manifest_of_directory(SERVER_SOURCE)) == digest(manifest_of_directory(synced))
    current = json.loads((root / "share" / paths.current_record("chat-one")).read_text())
    assert current["version"] == record["version"] and current["code_hash"] == record["code_hash"]

    client = OpenAI(base_url=f"{endpoint}/v1", api_key=AppFiles(root / "apps" / "chat-one").ensure_api_key(),
                    timeout=120)
    models = {m.id: getattr(m, "parent", None) for m in client.models.list()}
    assert models[record["version"]] == "tiny-chat"
    reply = client.chat.completions.create(
        model=record["version"], messages=[{"role": "user", "content": "hi"}], max_tokens=5, temperature=0,
        extra_body={"ignore_eos": True},  # a random-weight model may end at once; five tokens are asked for
    )
    assert reply.choices[0].message.content and reply.usage and reply.usage.completion_tokens == 5

    # nothing changed: the running server swaps the adapter in place (no new revision); the restart asked for
    # beside it waits until that deploy has ended, then starts the next revision
    first = start(host, "deploy", {"app_name": "chat-one", "base_model": BASE_MODEL}).json()["id"]
    concurrent = start(host, "deploy", {"app_name": "chat-one", "base_model": BASE_MODEL, "strategy": "restart"})
    assert concurrent.status_code == 202 and concurrent.json()["id"] != first  # queued behind the first
    swapped = wait_for(host, first)
    again = swapped["output"]
    assert again["changes"] == {"code_copied": [], "code_deleted": [], "adapter_files_copied": 0}
    assert again["strategy"] == "swap" and again["revision"] == "chat-one--1" and again["version"] == record["version"]
    restarted = wait_for(host, concurrent.json()["id"])
    assert restarted["output"]["strategy"] == "restart" and restarted["output"]["revision"] == "chat-one--2"
    assert restarted["createdTime"] >= swapped["lastUpdatedTime"]  # after, not beside
    # asked once both have ended: right after the swap, the queued restart may already be restarting the server
    assert {m.id for m in client.models.list()} >= {record["version"]}

    # a rollback names a snapshot: the training output may have moved on or gone
    body = {"app_name": "chat-one", "base_model": BASE_MODEL, "version": record["version"], "adapter_source": "gone"}
    rolled_back = run(host, "deploy", body)
    assert rolled_back["runtimeStatus"] == "Completed", rolled_back
    assert rolled_back["output"]["version"] == record["version"]
    assert rolled_back["output"]["strategy"] == "swap" and rolled_back["output"]["revision"] == "chat-one--2"


def test_deploys_of_one_app_sent_at_the_same_instant_never_run_at_once(host: HostProcess, local_root: Path) -> None:
    assert run(host, "provision", {"app_name": "racer"})["runtimeStatus"] == "Completed"
    body = {"app_name": "racer", "base_model": BASE_MODEL, "strategy": "restart"}  # each deploy: a new revision
    senders = 6
    barrier = threading.Barrier(senders)
    replies: list[httpx.Response] = []

    def deploy_now() -> None:
        with httpx.Client(headers={"x-functions-key": host.key or ""}, timeout=HTTP_TIMEOUT) as client:
            client.get(host.url("/admin/host/status"))  # connected before the barrier: the posts leave together
            barrier.wait()
            replies.append(client.post(host.url("/api/deploy"), json=body))

    threads = [threading.Thread(target=deploy_now) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(reply.status_code for reply in replies) == [202] * senders, [reply.text for reply in replies]
    ids = [reply.json()["id"] for reply in replies]
    assert len(set(ids)) == senders
    finals = [wait_for(host, request_id) for request_id in ids]
    deploys = sorted((f["createdTime"], f["lastUpdatedTime"], f["instanceId"]) for f in finals if f["name"] == "deploy")
    assert 1 <= len(deploys) <= 2, deploys  # the first to arrive, then at most the newest of the rest
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(deploys)), deploys
    assert {f["output"]["superseded_by"] for f in finals if f["name"] == "deploy_superseded"} <= {deploys[-1][2]}
    revisions = sorted(p.name for p in (local_root / "apps" / "racer" / "logs").glob("racer--*.log"))
    assert revisions == [f"racer--{n}.log" for n in range(1, len(deploys) + 1)]  # one restart per deploy
    assert {f["output"]["strategy"] for f in finals if f["name"] == "deploy"} == {"restart"}
    assert [i["instanceId"] for i in instances(host) if i["name"] == "deployer" and "racer" in i["instanceId"]] == [
        "deployer_racer"]
    assert (local_root / "share" / paths.current_record("racer")).is_file()
    assert not (local_root / "share" / "serving" / "current.json").exists()


def test_provision_on_a_port_another_app_has_or_the_host_holds_is_400_naming_port(host: HostProcess) -> None:
    owner = run(host, "provision", {"app_name": "port-owner"})
    taken = int(owner["output"]["ACA_APP_ENDPOINT"].rsplit(":", 1)[1])
    before = len(instances(host))
    for port, reason in ((taken, "already given to app 'port-owner'"), (host.port, "in use by another process")):
        reply = start(host, "provision", {"app_name": "port-taker", "port": port})
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["fields"][0]["field"] == "port" and reason in reply.text
    assert len(instances(host)) == before  # nothing started
