"""The HTTP starters with target "azure", in-process: a target without settings is a 400 (provision: see
test_azure_provision_starter.py)."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from http_api.deploy import start_deploy
from service_settings import get_settings
from tests.function_app.durable_client import FakeDurableClient, post
from tests.function_app.invoke import client_function

AZURE_SETTINGS = ("AZURE_STORAGE_ACCOUNT", "AZURE_FILES_ENDPOINT", "AZURE_FILE_SHARE", "AZURE_SUBSCRIPTION_ID",
                  "AZURE_RESOURCE_GROUP")


def call(starter: Any, req: func.HttpRequest, client: FakeDurableClient) -> tuple[int, dict[str, Any]]:
    """Run an HTTP trigger's own function with `client` as its Durable client; the status and JSON body."""
    reply = asyncio.run(client_function(starter)(req, client))
    return reply.status_code, json.loads(reply.get_body())


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No Azure app settings at all, except a share name whose value must never be echoed."""
    for name in AZURE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_FILE_SHARE", "share-value-never-echoed")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_deploy_to_azure_without_its_settings_is_400_naming_target_and_the_missing_settings(unconfigured) -> None:
    client = FakeDurableClient()
    request = post("deploy", {"target": "azure", "app_name": "chat", "base_model": "model-cache/local/tiny-chat"})
    status, body = call(start_deploy, request, client)
    assert status == 400, body
    assert [item["field"] for item in body["error"]["fields"]] == ["target"]
    message = body["error"]["message"]
    for name in ("AZURE_STORAGE_ACCOUNT", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP"):
        assert name in message
    assert "AZURE_FILE_SHARE" not in message and "share-value-never-echoed" not in message
    assert client.instances == {}
