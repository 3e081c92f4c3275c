"""The deploy queue's starter side in-process: request ids, duplicates, queued status, registered targets."""

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from activities.create_app import create_app
from http_api.apps import post_app
from http_api.deploy import start_deploy
from http_api.deploy_queue import app_of_request, submit_deploy, user_request_id, webhook_request_id
from http_api.status import get_status
from payloads.apps import DeployTrigger
from payloads.steps import DeployJob
from tests.function_app.durable_client import FakeDurableClient, Instance, Status, get, post
from tests.function_app.invoke import client_function, user_function

BASE_MODEL = "model-cache/local/tiny-chat"
JOB = DeployJob(target="local", app_name="chat", base_model=BASE_MODEL, adapter_source="a", readiness_timeout_s=60,
                poll_seconds=1)


def call(trigger: Any, req: Any, client: FakeDurableClient) -> tuple[int, dict[str, Any]]:
    reply = asyncio.run(client_function(trigger)(req, client))
    return reply.status_code, json.loads(reply.get_body())


@pytest.fixture
def client(local_root: Path) -> FakeDurableClient:
    user_function(create_app)({"target": "local", "app_name": "chat", "port": None})
    return FakeDurableClient()


def test_request_ids_name_the_app_and_a_webhook_s_id_is_the_same_for_every_redelivery() -> None:
    moment = datetime(2026, 11, 25, 20, 46, 0, 710319, tzinfo=UTC)
    user = user_request_id("chat-two", moment)
    assert re.fullmatch(r"deploy_chat-two_20261125T204600710319_[0-9a-f]{4}", user)
    hook = webhook_request_id("chat-two", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
    assert hook == webhook_request_id("chat-two", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
    assert re.fullmatch(r"deploy_chat-two_wh_[0-9a-f]{24}", hook)
    assert app_of_request(user) == app_of_request(hook) == "chat-two" and app_of_request("deployer_chat") is None


def test_submitting_a_known_request_id_again_starts_nothing_and_returns_the_stored_trigger(client) -> None:
    trigger = DeployTrigger(kind="webhook", webhook_id="msg_1", run_id="run-7", body_sha256="b" * 64)
    request_id = webhook_request_id("chat", "msg_1")
    first = asyncio.run(submit_deploy(client, JOB, request_id, trigger))
    again = asyncio.run(submit_deploy(client, JOB, request_id, DeployTrigger(kind="webhook", webhook_id="msg_1")))
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.trigger == trigger and again.status_url == f"/api/status/{request_id}"
    assert len(client.events) == 1
    client.instances[request_id] = Instance(request_id, "deploy", {"trigger": trigger.model_dump()}, Status.Running)
    ran = asyncio.run(submit_deploy(client, JOB, request_id, trigger))  # once its deploy runs: still a duplicate
    assert ran.duplicate and ran.trigger == trigger and len(client.events) == 1


def test_a_queued_request_s_status_is_pending_naming_the_deploy_it_waits_for(client) -> None:
    _, first = call(start_deploy, post("deploy", {"app_name": "chat", "base_model": BASE_MODEL}), client)
    deployer = client.instances["deployer_chat"]
    deployer.custom_status["running"] = {"request_id": "deploy_chat_x", "requested_at": "2026-01-01T00:00:00Z",
                                         "started_at": "2026-01-01T00:00:00Z"}
    status, body = call(get_status, get(f"status/{first['id']}", {"instanceId": first["id"]}), client)
    assert status == 200 and body["runtimeStatus"] == "Pending" and body["instanceId"] == first["id"]
    assert body["customStatus"]["step"] == "queued" and body["customStatus"]["queued_behind"] == "deploy_chat_x"
    assert body["createdTime"].endswith("Z") and body["error"] is None
    unknown = "deploy_chat_20260101T000000000000_abcd"
    assert call(get_status, get(f"status/{unknown}", {"instanceId": unknown}), client)[0] == 404


def test_a_deploy_naming_only_the_app_uses_the_registered_target(client, monkeypatch) -> None:
    config = {"app_name": "chat", "target": "azure", "registered_at": "2026-01-01T00:00:00Z", "source": "manual",
              "SUBSCRIPTION_ID": "s", "RESOURCE_GROUP_NAME": "g", "STORAGE_ACCOUNT_NAME": "a",
              "FILE_SHARE_NAME": "f", "ACA_APP_NAME": "chat", "ACA_APP_ENDPOINT": "https://chat.example"}
    client.instances["app_chat"] = Instance("app_chat", "register_app", config, Status.Completed, output=config)
    checked: list[tuple[str, Any]] = []  # no Azure here: record what preflight was asked to check

    def preflight(request: Any, _settings: Any, place: Any) -> list[Any]:
        checked.append((request.target, place))
        return []

    monkeypatch.setattr("http_api.deploy.deploy_problems", preflight)
    status, body = call(start_deploy, post("deploy", {"app_name": "chat", "base_model": BASE_MODEL}), client)
    assert status == 202 and checked[0][0] == "azure" and checked[0][1].resource_group == "g", body
    status, body = call(start_deploy, post("deploy", {"app_name": "chat", "base_model": BASE_MODEL,
                                                      "target": "local"}), client)
    assert status == 202 and checked[1] == ("local", None), body  # a target in the body wins


@pytest.mark.parametrize(("change", "field"), [
    ({"ACA_APP_ENDPOINT": "ftp://x"}, "ACA_APP_ENDPOINT"),
    ({"colour": "red"}, "colour"),
    ({"target": "gcp"}, "target"),
    ({"RESOURCE_GROUP_NAME": "a/b"}, "RESOURCE_GROUP_NAME"),
    ({"ACA_APP_NAME": "Not_An_App"}, "app_name"),
])
def test_registering_an_app_checks_every_field_strictly(client, change, field) -> None:
    body = {"target": "local", "SUBSCRIPTION_ID": "s", "RESOURCE_GROUP_NAME": "g", "STORAGE_ACCOUNT_NAME": "a",
            "FILE_SHARE_NAME": "f", "ACA_APP_NAME": "chat", "ACA_APP_ENDPOINT": "http://127.0.0.1:1"} | change
    status, answer = call(post_app, post("apps", body), client)
    assert status == 400 and field in {item["field"] for item in answer["error"]["fields"]}, answer
    assert not client.instances
