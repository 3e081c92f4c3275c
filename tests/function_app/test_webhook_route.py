"""POST /api/webhooks/training-complete in-process: every refusal starts nothing; a signed call queues one deploy."""

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from http_api.webhook_plan import webhook_target
from http_api.webhooks import MAX_WEBHOOK_BODY_BYTES, training_complete
from service_settings import ServiceSettings, get_settings
from tests.function_app.durable_client import FakeDurableClient
from tests.function_app.invoke import client_function
from tests.function_app.webhook_helpers import (
    ADAPTER,
    BASE_MODEL,
    SECRET,
    body_bytes,
    deploys,
    signed_headers,
    webhook_ready_share,
    webhook_request,
)


def call(client: FakeDurableClient, req: func.HttpRequest) -> tuple[int, dict[str, Any]]:
    """Run the route with `client`; the status and the JSON body."""
    reply = asyncio.run(client_function(training_complete)(req, client))
    return reply.status_code, json.loads(reply.get_body())


def send(client: FakeDurableClient, body: bytes, webhook_id: str = "msg_1",
         **signing: Any) -> tuple[int, dict[str, Any]]:
    """A call signed by the library with the configured secret."""
    return call(client, webhook_request(body, signed_headers(body, webhook_id, **signing)))


@pytest.fixture
def share(local_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """WEBHOOK_SECRET set; app `chat` serving the tiny base model, app `fresh` provisioned only."""
    return webhook_ready_share(local_root, monkeypatch)


@pytest.fixture
def client(share: Path) -> FakeDurableClient:
    return FakeDurableClient()


def test_a_signed_call_queues_one_deploy_of_the_adapter_with_the_apps_base_model(client) -> None:
    status, body = send(client, body_bytes(run_id="run-7"), webhook_id="msg_first")
    assert status == 202, body
    [event] = deploys(client)
    assert body["id"] == event.request_id and body["statusUrl"] == f"/api/status/{event.request_id}"
    assert (event.job.app_name, event.job.base_model, event.job.adapter_source) == ("chat", BASE_MODEL, ADAPTER)
    assert event.trigger.kind == "webhook" and event.trigger.webhook_id == "msg_first"
    assert event.trigger.run_id == "run-7" and len(event.trigger.body_sha256 or "") == 64


def test_base_model_in_the_body_wins(client) -> None:
    status, _ = send(client, body_bytes(app_name="fresh", base_model=BASE_MODEL))
    assert status == 202
    assert deploys(client)[0].job.base_model == BASE_MODEL


def test_an_app_without_a_deployment_needs_base_model(client) -> None:
    status, body = send(client, body_bytes(app_name="fresh"))
    assert status == 400 and "pass base_model" in body["error"]["message"]
    assert body["error"]["fields"][0]["field"] == "base_model"
    assert client.instances == {}


def test_a_redelivery_gets_the_same_answer_and_no_second_deploy(client) -> None:
    body = body_bytes()
    first = send(client, body, webhook_id="msg_again")
    second = send(client, body, webhook_id="msg_again")
    assert first[0] == second[0] == 202
    assert first[1]["id"] == second[1]["id"] and first[1]["statusUrl"] == second[1]["statusUrl"]
    assert len(deploys(client)) == 1


def test_the_same_id_with_another_body_is_409_and_starts_nothing(client) -> None:
    assert send(client, body_bytes(), webhook_id="msg_same")[0] == 202
    status, body = send(client, body_bytes(run_id="other"), webhook_id="msg_same")
    assert status == 409 and "different body" in body["error"]["message"]
    assert len(deploys(client)) == 1


def test_new_ids_deploy_again(client) -> None:
    assert send(client, body_bytes(), webhook_id="msg_a")[0] == 202
    assert send(client, body_bytes(), webhook_id="msg_b")[0] == 202
    assert len({event.request_id for event in deploys(client)}) == 2


def test_no_secret_configured_is_503_and_starts_nothing(local_root, monkeypatch) -> None:
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    get_settings.cache_clear()
    client = FakeDurableClient()
    status, body = send(client, body_bytes())
    assert status == 503 and "WEBHOOK_SECRET" in body["error"]["message"]
    assert client.instances == {}


def _refusal(client: FakeDurableClient, case: str) -> tuple[int, dict[str, Any]]:
    body = body_bytes()
    headers = signed_headers(body)
    other = "whsec_" + base64.b64encode(b"z" * 32).decode()
    cases: dict[str, func.HttpRequest] = {
        "unsigned": webhook_request(body),
        "no signature": webhook_request(body, {k: v for k, v in headers.items() if k != "webhook-signature"}),
        "wrong secret": webhook_request(body, signed_headers(body, secret=other)),
        "tampered": webhook_request(body.replace(b"chat", b"fresh"), headers),
        "stale": webhook_request(body, signed_headers(body, at=time.time() - 600)),
        "future": webhook_request(body, signed_headers(body, at=time.time() + 600)),
        "too large": webhook_request(b" " * (MAX_WEBHOOK_BODY_BYTES + 1) + body),
        "not json type": webhook_request(body, headers, content_type="text/plain"),
    }
    for name, raw in {"bad json": b"{not json", "unknown field": body_bytes(colour="red"),
                      "missing field": body_bytes(adapter_path=None), "escaping path": body_bytes(adapter_path="../x"),
                      "absolute path": body_bytes(adapter_path="/etc"), "unknown app": body_bytes(app_name="nope"),
                      "no adapter there": body_bytes(adapter_path="models"),
                      "array": b"[1, 2]", "coerced type": body_bytes(run_id=7)}.items():
        cases[name] = webhook_request(raw, signed_headers(raw))
    return call(client, cases[case])


REFUSALS = [
    ("unsigned", 400, "webhook-id"), ("no signature", 400, "webhook-signature"), ("wrong secret", 401, "signature"),
    ("tampered", 401, "signature"), ("stale", 401, "in the past"), ("future", 401, "in the future"),
    ("too large", 413, "larger than"), ("not json type", 415, "Content-Type"), ("bad json", 400, "not valid JSON"),
    ("unknown field", 400, "colour"), ("missing field", 400, "adapter_path"), ("escaping path", 400, "adapter_path"),
    ("absolute path", 400, "adapter_path"), ("unknown app", 404, "'nope'"), ("no adapter there", 400, "adapter_path"),
    ("array", 400, "JSON object"), ("coerced type", 400, "run_id"),
]


@pytest.mark.parametrize(("case", "expected", "named"), REFUSALS)
def test_every_bad_webhook_is_refused_naming_what_was_wrong_and_starts_nothing(client, case, expected, named) -> None:
    status, body = _refusal(client, case)
    assert status == expected, body
    assert named in body["error"]["message"]
    assert client.instances == {} and client.events == []


def test_an_adapter_linked_from_outside_the_share_is_400(client, share: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside-adapter"
    outside.mkdir()
    (outside / "adapter_config.json").write_text("{}")
    (share / "models" / "linked").symlink_to(outside)
    status, body = send(client, body_bytes(adapter_path="models/linked"))
    assert status == 400 and body["error"]["fields"][0]["field"] == "adapter_path", body
    assert client.events == []


def test_an_unsigned_call_learns_nothing_about_apps(client) -> None:
    replies = [call(client, webhook_request(body_bytes(app_name=name), signed_headers(body_bytes(app_name=name),
                                                                                      secret=SECRET[:-4] + "AAA=")))
               for name in ("chat", "nope")]
    assert [status for status, _ in replies] == [401, 401]
    assert replies[0][1] == replies[1][1]


def test_the_size_limit_is_checked_before_the_signature(client) -> None:
    status, _ = call(client, webhook_request(b"x" * (MAX_WEBHOOK_BODY_BYTES + 1), {"webhook-id": "msg_1"}))
    assert status == 413


def test_no_answer_holds_the_secret(client) -> None:
    texts = [json.dumps(_refusal(client, case)[1]) for case, _, _ in REFUSALS]
    key = SECRET.removeprefix("whsec_")
    assert not any(key in text or SECRET in text for text in texts)


def test_webhook_target_defaults_to_azure_only_where_the_azure_target_is_configured(monkeypatch) -> None:
    for name in ("AZURE_STORAGE_ACCOUNT", "AZURE_FILE_SHARE", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP",
                 "AZURE_FILES_ENDPOINT", "WEBHOOK_TARGET"):
        monkeypatch.delenv(name, raising=False)
    assert webhook_target(ServiceSettings()) == "local"
    for name in ("AZURE_STORAGE_ACCOUNT", "AZURE_FILE_SHARE", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP"):
        monkeypatch.setenv(name, "x")
    assert webhook_target(ServiceSettings()) == "azure"
    monkeypatch.setenv("WEBHOOK_TARGET", "local")
    assert webhook_target(ServiceSettings()) == "local"
