"""Signing webhook calls with the standardwebhooks library, and reading what the route asked the deployers."""

import base64
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from standardwebhooks import Webhook

from activities.create_app import create_app
from orchestrations.deployer import EVENT
from payloads.apps import DeployRequested
from payloads.steps import DeploymentRecord
from service_settings import get_settings
from share_layout import paths
from tests.function_app.durable_client import FakeDurableClient
from tests.function_app.invoke import user_function

SECRET = "whsec_" + base64.b64encode(b"training-complete-test-secret-32").decode()
ROUTE = "webhooks/training-complete"
ADAPTER = "models/qlora/qlora/gpu_model/adapter"
BASE_MODEL = "model-cache/local/tiny-chat"


def body_bytes(**fields: Any) -> bytes:
    """A webhook body for app `chat` and the tiny adapter, with `fields` changed (None drops a field)."""
    body = {"app_name": "chat", "adapter_path": ADAPTER} | fields
    return json.dumps({key: value for key, value in body.items() if value is not None}).encode()


def signed_headers(body: bytes, webhook_id: str = "msg_1", secret: str = SECRET,
                   at: float | None = None) -> dict[str, str]:
    """Standard Webhooks headers for `body`, signed by the library itself at `at` (now by default)."""
    moment = datetime.fromtimestamp(int(time.time() if at is None else at), UTC)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, moment, body.decode())}


def webhook_request(body: bytes, headers: dict[str, str] | None = None,
                    content_type: str | None = "application/json") -> func.HttpRequest:
    """A POST to the webhook route with these bytes and headers."""
    extra = {"content-type": content_type} if content_type else {}
    return func.HttpRequest("POST", f"http://localhost/api/{ROUTE}", body=body, headers=(headers or {}) | extra)


def deploys(client: FakeDurableClient) -> list[DeployRequested]:
    """Every deploy request raised to an app's deployer."""
    return [DeployRequested.model_validate(data) for _, name, data in client.events if name == EVENT]


def webhook_ready_share(local_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Set WEBHOOK_SECRET; provision apps `chat` (with a record: it serves the tiny base model) and `fresh`."""
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    get_settings.cache_clear()
    for app_name in ("chat", "fresh"):
        user_function(create_app)({"target": "local", "app_name": app_name, "port": None})
    share = local_root / "share"
    record = DeploymentRecord(app_name="chat", endpoint="http://127.0.0.1:1", revision="chat--1", version="v1",
                              base_model=BASE_MODEL, adapter_hash="0" * 64, code_hash="0" * 64,
                              deployed_at=datetime(2026, 1, 1, tzinfo=UTC))
    (share / paths.current_record("chat")).parent.mkdir(parents=True, exist_ok=True)
    (share / paths.current_record("chat")).write_text(record.model_dump_json())
    return share
