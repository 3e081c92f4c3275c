"""The app before its model is loaded (the state the lifespan starts in), and the chat page route."""

import asyncio

import httpx
import pytest

from devtools.tiny_model import TinyModelPaths
from inference_container.app import create_app
from inference_container.settings import Settings


def _get_without_lifespan(settings: Settings, path: str) -> httpx.Response:
    """GET on an app whose lifespan has not run: the model is still 'loading'."""
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get(path)

    return asyncio.run(get())


@pytest.fixture
def settings(tiny_share: TinyModelPaths) -> Settings:
    """Settings for the tiny model, no key."""
    return Settings(model_path=tiny_share.base_dir, adapter_path=tiny_share.adapter_dir)


def test_health_answers_while_loading(settings: Settings) -> None:
    response = _get_without_lifespan(settings, "/health")
    assert response.status_code == 200 and response.json() == {"status": "ok", "revision": None}


def test_ready_is_503_while_loading(settings: Settings) -> None:
    response = _get_without_lifespan(settings, "/ready")
    assert response.status_code == 503
    assert response.json()["error"]["message"] == "Model is loading."


def test_v1_is_503_with_retry_after_while_loading(settings: Settings) -> None:
    response = _get_without_lifespan(settings, "/v1/models")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "loading" in response.json()["error"]["message"]


def test_root_serves_the_chat_page(settings: Settings) -> None:
    response = _get_without_lifespan(settings, "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


def test_model_names_default_to_the_base_dir_and_adapter(settings: Settings) -> None:
    assert settings.base_model_name == "tiny-chat"
    assert settings.adapter_model_name == "tiny-chat-adapter"
    assert Settings(model_path=settings.model_path, served_model_name="mine").base_model_name == "mine"
