"""HTTP starters called in-process with an in-memory Durable client: the 400/404/413/415 branches and the hand-off
to the app's deployer, in milliseconds."""

import asyncio
import json
import re
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from activities.create_app import create_app
from http_api.deploy import start_deploy
from http_api.provision import start_provision
from http_api.responses import MAX_BODY_BYTES
from http_api.status import get_status
from orchestrations.deployer import EVENT
from share_layout import paths
from tests.function_app.durable_client import FakeDurableClient, Instance, RacingDurableClient, Status, get, post
from tests.function_app.invoke import client_function, user_function

BASE_MODEL = "model-cache/local/tiny-chat"


def call(starter: Any, req: func.HttpRequest, client: FakeDurableClient) -> tuple[int, dict[str, Any]]:
    """Run an HTTP trigger's own function with `client` as its Durable client; the status and JSON body."""
    reply = asyncio.run(client_function(starter)(req, client))
    return reply.status_code, json.loads(reply.get_body())


@pytest.fixture
def share(local_root: Path) -> Path:
    """The local target's share, where apps `chat` and `chat-two` are provisioned."""
    for app_name in ("chat", "chat-two"):
        user_function(create_app)({"target": "local", "app_name": app_name, "port": None})
    return local_root / "share"


@pytest.fixture
def client(share: Path) -> FakeDurableClient:
    """A Durable client over the local target with provisioned apps."""
    return FakeDurableClient()


def deploy(client: FakeDurableClient, app_name: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    return call(start_deploy, post("deploy", {"app_name": app_name, "base_model": BASE_MODEL, **fields}), client)


def fields_of(body: dict[str, Any]) -> dict[str, str]:
    return {item["field"]: item["message"] for item in body["error"]["fields"]}


def requests_to(client: FakeDurableClient, app_name: str) -> list[dict[str, Any]]:
    """The deploy_requested events raised to the app's deployer, in order."""
    return [data for target, name, data in client.events if target == f"deployer_{app_name}" and name == EVENT]


def test_a_deploy_is_handed_to_the_app_s_deployer_under_a_new_request_id(client) -> None:
    status, body = deploy(client, "chat")
    assert status == 202, body
    assert re.fullmatch(r"deploy_chat_\d{8}T\d{12}_[0-9a-f]{4}", body["id"]), body["id"]
    assert body["statusQueryGetUri"].endswith(f"/api/status/{body['id']}") and body["duplicate"] is False
    assert client.instances["deployer_chat"].name == "deployer"
    (event,) = requests_to(client, "chat")
    assert event["request_id"] == body["id"] and event["trigger"]["kind"] == "user"


def test_a_deploy_of_an_app_whose_name_extends_another_goes_to_its_own_deployer(client) -> None:
    deploy(client, "chat-two")
    deploy(client, "chat")
    assert [event["job"]["app_name"] for event in requests_to(client, "chat")] == ["chat"]
    assert [event["job"]["app_name"] for event in requests_to(client, "chat-two")] == ["chat-two"]


@pytest.mark.parametrize("live", [Status.Pending, Status.Running, Status.Suspended])
def test_a_second_deploy_while_the_deployer_is_busy_is_queued_to_it_not_refused(client, live) -> None:
    _, first = deploy(client, "chat")
    client.instances["deployer_chat"].runtime_status = live
    status, second = deploy(client, "chat", version="v2")
    assert status == 202, second
    assert second["id"] != first["id"]
    assert [event["request_id"] for event in requests_to(client, "chat")] == [first["id"], second["id"]]
    assert [instance.name for instance in client.instances.values()] == ["deployer"]


def test_a_starter_that_loses_the_race_to_start_the_deployer_queues_to_the_winner(share: Path) -> None:
    client = RacingDurableClient(winner_input={"app_name": "chat"})
    status, body = deploy(client, "chat")
    assert status == 202, body
    assert list(client.instances) == ["deployer_chat"]
    assert [event["request_id"] for event in requests_to(client, "chat")] == [body["id"]]


@pytest.mark.parametrize("finished", [Status.Completed, Status.Failed, Status.Terminated])
def test_a_deployer_that_ended_is_started_again(client, finished) -> None:
    deploy(client, "chat")
    client.instances["deployer_chat"].runtime_status = finished
    status, body = deploy(client, "chat", version="v2")
    assert status == 202, body
    assert client.instances["deployer_chat"].runtime_status == Status.Pending
    assert requests_to(client, "chat")[-1]["job"]["version"] == "v2"


ERRORS = [
    (start_provision, post("provision", {"colour": "red"}), 400),
    (start_deploy, post("deploy", {"base_model": "../outside"}), 400),
    (start_deploy, post("deploy", {"app_name": "never-made", "base_model": BASE_MODEL}), 400),
    (start_deploy, post("deploy", {"base_model": BASE_MODEL}, content_type="text/plain"), 415),
    (start_deploy, post("deploy", b"[" * (MAX_BODY_BYTES + 1)), 413),
    (get_status, get("status/nope", {"instanceId": "nope"}), 404),
]


@pytest.mark.parametrize(("trigger", "req", "expected"), ERRORS)
def test_every_error_has_one_shape_with_everything_inside_error(client, trigger, req, expected) -> None:
    status, body = call(trigger, req, client)
    assert status == expected
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert not client.instances


def test_the_deploy_job_in_history_carries_the_request_fields_not_the_request(client) -> None:
    body = {"app_name": "chat", "base_model": BASE_MODEL, "version": "v1", "readiness_timeout_s": 30}
    call(start_deploy, post("deploy", body), client)
    (event,) = requests_to(client, "chat")
    assert "request" not in event["job"]
    assert {key: event["job"][key] for key in body} == body


def test_a_body_over_the_size_limit_is_413_before_it_is_parsed(client) -> None:
    body = json.dumps({"app_name": "chat", "base_model": BASE_MODEL, "adapter_source": "a/" * 2_000_000})
    status, answer = call(start_deploy, post("deploy", body.encode()), client)
    assert status == 413 and "larger than" in answer["error"]["message"]
    assert not client.instances


TOO_LONG_OR_BAD = [
    ("adapter_source", "a/" * 600, "at most 1024 characters"),
    ("base_model", "model-cache/" + "x" * 256, "at most 255 bytes"),
    ("adapter_source", "models/" + "é" * 128, "at most 255 bytes"),  # 256 bytes in UTF-8
    ("base_model", "model-cache/a\x00b", "control characters"),
    ("adapter_source", "models/\x00", "control characters"),
    ("version", "v" * 65, "at most 64 characters"),
    ("app_name", "a" * 33, "at most 32 characters"),
]


@pytest.mark.parametrize(("field", "value", "reason"), TOO_LONG_OR_BAD)
def test_a_long_or_bad_path_or_name_is_400_naming_the_field_and_why(client, field, value, reason) -> None:
    body = {"app_name": "chat", "base_model": BASE_MODEL} | {field: value}
    status, answer = call(start_deploy, post("deploy", body), client)
    assert status == 400, answer
    assert reason in fields_of(answer)[field]
    assert not client.instances


def test_json_nested_too_deeply_is_400_naming_the_body(client) -> None:
    nested = b'{"app_name": "chat", "base_model": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, body = call(start_deploy, post("deploy", nested), client)
    assert status == 400 and "nested too deeply" in fields_of(body)["body"]
    assert not client.instances


def test_a_huge_bad_value_is_quoted_in_the_answer_only_by_a_bounded_prefix(client) -> None:
    unknown = "y" * 500_000
    status, body = call(start_deploy, post("deploy", {"base_model": "../" + "x" * 1000, unknown: 1}), client)
    assert status == 400
    text = json.dumps(body)
    assert len(text) < 2_000, len(text)
    assert "x" * 100 not in text and "y" * 100 not in text
    assert "'../xxxxx" in fields_of(body)["base_model"] and "…" in fields_of(body)["base_model"]


STRICT_TYPES = [
    (start_provision, "provision", {"port": "8080"}, "port", "valid integer"),
    (start_provision, "provision", {"port": True}, "port", "valid integer"),
    (start_provision, "provision", {"port": 8080.0}, "port", "valid integer"),
    (start_deploy, "deploy", {"app_name": "chat", "base_model": BASE_MODEL, "readiness_timeout_s": "10"},
     "readiness_timeout_s", "valid integer"),
    (start_deploy, "deploy", {"app_name": "chat", "base_model": BASE_MODEL, "version": 7}, "version", "valid string"),
]


@pytest.mark.parametrize(("trigger", "route", "body", "field", "reason"), STRICT_TYPES)
def test_values_of_the_wrong_json_type_are_not_coerced(client, trigger, route, body, field, reason) -> None:
    status, answer = call(trigger, post(route, body), client)
    assert status == 400, answer
    assert reason in fields_of(answer)[field] and "1024" not in fields_of(answer)[field]
    assert not client.instances


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_body_that_is_not_json_by_its_content_type_is_415(client, content_type) -> None:
    for trigger, route in ((start_provision, "provision"), (start_deploy, "deploy")):
        status, body = call(trigger, post(route, {"app_name": "chat", "base_model": BASE_MODEL}, content_type), client)
        assert status == 415 and "application/json" in body["error"]["message"]
    assert not client.instances


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON",
                                          "application/merge-patch+json", None])
def test_json_content_types_and_none_are_accepted(client, content_type) -> None:
    status, body = call(start_deploy, post("deploy", {"app_name": "chat", "base_model": BASE_MODEL}, content_type),
                        client)
    assert status == 202, body


def _outside_copy(share: Path, relative: str) -> Path:
    """A copy of a share file or folder outside the share."""
    outside = share.parent / "outside" / Path(relative).name
    outside.parent.mkdir(exist_ok=True)
    source = share / relative
    if source.is_dir():
        shutil.copytree(source, outside)
    else:
        shutil.copy(source, outside)
    return outside


def _link_out(share: Path, relative: str) -> None:
    """Replace a share file or folder by a symbolic link to a copy of it outside the share."""
    outside = _outside_copy(share, relative)
    place = share / relative
    shutil.rmtree(place) if place.is_dir() else place.unlink()
    place.symlink_to(outside)


LINKED_OUT = [
    (paths.TRAINING_ADAPTER, "adapter_source"),
    (BASE_MODEL, "base_model"),
    (f"{paths.TRAINING_ADAPTER}/adapter_config.json", "adapter_source"),
    (f"{BASE_MODEL}/config.json", "base_model"),
    (f"{paths.TRAINING_ADAPTER}/adapter_model.safetensors", "adapter_source"),  # one file of the adapter
]


@pytest.mark.parametrize(("relative", "field"), LINKED_OUT)
def test_a_symbolic_link_out_of_the_share_is_400_naming_the_field(client, share: Path, relative, field) -> None:
    _link_out(share, relative)
    status, body = deploy(client, "chat")
    assert status == 400, body
    assert "outside the share" in fields_of(body)[field]
    assert not client.instances


def test_a_link_to_another_place_inside_the_share_is_fine(client, share: Path) -> None:
    adapter = share / paths.TRAINING_ADAPTER
    kept = share / "models" / "kept.safetensors"
    (adapter / "adapter_model.safetensors").rename(kept)
    (adapter / "adapter_model.safetensors").symlink_to(kept)
    assert deploy(client, "chat")[0] == 202


@pytest.mark.parametrize("created", [
    datetime(2026, 11, 25, 20, 46, 0, 710319, tzinfo=UTC),
    datetime(2026, 11, 25, 22, 46, 0, 710319, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 11, 25, 20, 46, 0, 710319),  # naive: the SDK's times are UTC
])
def test_status_times_are_iso_8601_utc_as_the_durable_api_writes_them(client, created: datetime) -> None:
    client.instances["x"] = Instance("x", "deploy", {}, Status.Running, created_time=created, last_updated_time=created)
    status, body = call(get_status, get("status/x", {"instanceId": "x"}), client)
    assert status == 200
    assert body["createdTime"] == body["lastUpdatedTime"] == "2026-11-25T20:46:00.710319Z"
