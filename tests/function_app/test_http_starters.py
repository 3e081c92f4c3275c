"""HTTP starters called in-process with an in-memory Durable client: the 400/404/409 branches in milliseconds."""

import asyncio
import json
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from activities.create_app import create_app
from http_api.deploy import start_deploy
from http_api.provision import start_provision
from http_api.status import get_status
from tests.function_app.durable_client import FakeDurableClient, Status, get, post
from tests.function_app.invoke import client_function, user_function

BASE_MODEL = "model-cache/local/tiny-chat"


def call(starter: Any, req: func.HttpRequest, client: FakeDurableClient) -> tuple[int, dict[str, Any]]:
    """Run an HTTP trigger's own function with `client` as its Durable client; the status and JSON body."""
    reply = asyncio.run(client_function(starter)(req, client))
    return reply.status_code, json.loads(reply.get_body())


@pytest.fixture
def client(local_root: Path) -> FakeDurableClient:
    """A Durable client over a local target where apps `chat` and `chat-two` are provisioned."""
    for app_name in ("chat", "chat-two"):
        user_function(create_app)({"target": "local", "app_name": app_name, "port": None})
    return FakeDurableClient()


def deploy(client: FakeDurableClient, app_name: str) -> tuple[int, dict[str, Any]]:
    return call(start_deploy, post("deploy", {"app_name": app_name, "base_model": BASE_MODEL}), client)


@pytest.mark.parametrize("running", [Status.Pending, Status.Running])
def test_a_deploy_of_an_app_whose_name_extends_another_does_not_block_it(client, running) -> None:
    status, started = deploy(client, "chat-two")
    assert status == 202
    client.instances[started["id"]].runtime_status = running
    status, body = deploy(client, "chat")
    assert status == 202, body
    assert {instance.input["app_name"] for instance in client.instances.values()} == {"chat", "chat-two"}


def test_a_second_deploy_of_the_same_app_is_409_naming_the_running_one_inside_error(client) -> None:
    _, first = deploy(client, "chat")
    status, body = deploy(client, "chat")
    assert status == 409
    assert set(body) == {"error"} and body["error"]["instanceId"] == first["id"]
    assert first["id"] in body["error"]["message"]
    assert len(client.instances) == 1


def test_a_finished_deploy_does_not_block_the_next(client) -> None:
    _, first = deploy(client, "chat")
    client.instances[first["id"]].runtime_status = Status.Completed
    assert deploy(client, "chat")[0] == 202


ERRORS = [
    (start_provision, post("provision", {"colour": "red"}), 400),
    (start_deploy, post("deploy", {"base_model": "../outside"}), 400),
    (start_deploy, post("deploy", {"app_name": "never-made", "base_model": BASE_MODEL}), 400),
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
    (instance,) = client.instances.values()
    assert "request" not in instance.input
    assert {key: instance.input[key] for key in body} == body
