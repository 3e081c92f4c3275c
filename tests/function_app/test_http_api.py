"""The function app's HTTP API over the local host: validation, keys, status, provision and deploy."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from activities.sync_share import SERVER_SOURCE
from devtools.devhost.process import HostProcess
from share_layout.manifest import digest, manifest_of_directory
from targets.local.app_files import AppFiles
from targets.local.process_control import stop_all
from tests.function_app.host import instances, local_host, run, start, wait_for

pytestmark = pytest.mark.slow  # drives the function app on a devhost process

BASE_MODEL = "model-cache/local/tiny-chat"


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
    ("provision", {"target": "gcp"}, "target"),
    ("provision", {"colour": "red"}, "colour"),
    ("provision", [1, 2], "JSON object"),
    ("deploy", {}, "base_model"),
    ("deploy", {"base_model": "../outside"}, "base_model"),
    ("deploy", {"base_model": "/abs/path"}, "base_model"),
    ("deploy", {"base_model": BASE_MODEL, "readiness_timeout_s": 0}, "readiness_timeout_s"),
    ("deploy", {"base_model": BASE_MODEL, "version": "no spaces allowed"}, "version"),
    ("deploy", {"base_model": BASE_MODEL, "adapter_source": ""}, "adapter_source"),
]


@pytest.mark.parametrize(("route", "body", "named"), BAD_BODIES)
def test_bad_body_is_400_naming_the_field_and_starts_nothing(host: HostProcess, route, body, named) -> None:
    before = len(instances(host))
    reply = start(host, route, body)
    assert reply.status_code == 400
    assert named in reply.json()["error"]["message"]
    assert len(instances(host)) == before


def test_invalid_json_is_400_and_starts_nothing(host: HostProcess) -> None:
    before = len(instances(host))
    for route in ("provision", "deploy"):
        reply = httpx.post(host.url(f"/api/{route}"), content=b"{not json", headers={"x-functions-key": "test-key"})
        assert reply.status_code == 400 and "not valid JSON" in reply.json()["error"]["message"]
    assert len(instances(host)) == before


@pytest.mark.parametrize("headers", [{}, {"x-functions-key": "wrong"}])
def test_missing_or_wrong_function_key_is_401_and_starts_nothing(host: HostProcess, headers) -> None:
    before = len(instances(host))
    for route in ("provision", "deploy"):
        reply = httpx.post(host.url(f"/api/{route}"), json={"base_model": BASE_MODEL}, headers=headers)
        assert reply.status_code == 401
    assert httpx.get(host.url("/api/status/anything"), headers=headers).status_code == 401
    assert len(instances(host)) == before


def test_status_of_unknown_instance_is_404(host: HostProcess) -> None:
    reply = httpx.get(host.url("/api/status/no-such-instance"), params={"code": "test-key"})
    assert reply.status_code == 404 and "no-such-instance" in reply.json()["error"]["message"]


MISSING_ON_TARGET = [
    ({"app_name": "never-made", "base_model": BASE_MODEL}, {"app_name": "POST /api/provision first"}),
    ({"app_name": "checked", "base_model": "model-cache/org/absent"}, {"base_model": "no base model"}),
    ({"app_name": "checked", "base_model": BASE_MODEL, "adapter_source": "models/none"}, {"adapter_source": "no LoRA"}),
    ({"app_name": "checked", "base_model": BASE_MODEL, "adapter_source": "models/none", "version": "never-made"},
     {"adapter_source": "no LoRA"}),
    ({"app_name": "never-made", "base_model": "model-cache/x", "adapter_source": "models/none"},
     {"app_name": "not provisioned", "base_model": "no base model", "adapter_source": "no LoRA"}),
]


@pytest.mark.parametrize(("body", "expected"), MISSING_ON_TARGET)
def test_deploy_naming_what_the_target_lacks_is_400_and_starts_nothing(host: HostProcess, body, expected) -> None:
    assert run(host, "provision", {"app_name": "checked"})["runtimeStatus"] == "Completed"
    before = len(instances(host))
    reply = start(host, "deploy", body)
    assert reply.status_code == 400, reply.text
    fields = {item["field"]: item["message"] for item in reply.json()["error"]["fields"]}
    assert fields.keys() == expected.keys()
    assert all(words in fields[name] for name, words in expected.items()), fields
    assert len(instances(host)) == before


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
    current = json.loads((root / "share" / "serving" / "current.json").read_text())
    assert current["version"] == record["version"] and current["code_hash"] == record["code_hash"]

    client = OpenAI(base_url=f"{endpoint}/v1", api_key=AppFiles(root / "apps" / "chat-one").ensure_api_key())
    models = {m.id: getattr(m, "parent", None) for m in client.models.list()}
    assert models[record["version"]] == "tiny-chat"
    reply = client.chat.completions.create(
        model=record["version"], messages=[{"role": "user", "content": "hi"}], max_tokens=5, temperature=0,
        extra_body={"ignore_eos": True},  # a random-weight model may end at once; five tokens are asked for
    )
    assert reply.choices[0].message.content and reply.usage and reply.usage.completion_tokens == 5

    first = start(host, "deploy", {"app_name": "chat-one", "base_model": BASE_MODEL}).json()["id"]
    concurrent = start(host, "deploy", {"app_name": "chat-one", "base_model": BASE_MODEL})
    assert concurrent.status_code == 409 and concurrent.json()["error"]["instanceId"] == first
    again = wait_for(host, first)["output"]
    assert again["changes"] == {"code_copied": [], "code_deleted": [], "adapter_files_copied": 0}
    assert again["revision"] == "chat-one--2" and again["version"] == record["version"]

    # a rollback names a snapshot: the training output may have moved on or gone
    body = {"app_name": "chat-one", "base_model": BASE_MODEL, "version": record["version"], "adapter_source": "gone"}
    rolled_back = run(host, "deploy", body)
    assert rolled_back["runtimeStatus"] == "Completed", rolled_back
    assert rolled_back["output"]["revision"] == "chat-one--3" and rolled_back["output"]["version"] == record["version"]
