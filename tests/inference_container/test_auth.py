"""API key: /v1 needs the bearer key; health, readiness and metrics do not; the key never reaches the log."""

import httpx
import openai
import pytest

from tests.inference_container.conftest import API_KEY, REVISION, RunningServer

pytestmark = pytest.mark.slow

WRONG_KEY = "wrong-key-0a9b8c7d"


@pytest.mark.parametrize("headers", [{}, {"Authorization": f"Bearer {WRONG_KEY}"},
                                     {"Authorization": f"Basic {API_KEY}"}, {"Authorization": API_KEY}])
@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/models"), ("POST", "/v1/chat/completions"),
                                              ("POST", "/v1/completions")])
def test_v1_without_the_right_key_is_401(server: RunningServer, headers: dict, method: str, path: str) -> None:
    response = httpx.request(method, f"{server.base_url}{path}", headers=headers, timeout=10,
                             json={"model": "tiny-chat", "prompt": "x", "messages": [{"role": "user"}]})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key"
    assert API_KEY not in response.text and WRONG_KEY not in response.text


def test_official_client_with_wrong_key_gets_authentication_error(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=WRONG_KEY, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics"])
def test_probes_need_no_key(server: RunningServer, path: str) -> None:
    assert httpx.get(f"{server.base_url}{path}", timeout=10).status_code == 200


def test_probes_report_the_revision_the_platform_gave_the_container(server: RunningServer) -> None:
    assert httpx.get(f"{server.base_url}/health", timeout=10).json() == {"status": "ok", "revision": REVISION}
    assert httpx.get(f"{server.base_url}/ready", timeout=10).json() == {"status": "ready", "revision": REVISION}


def test_key_never_appears_in_the_log(server: RunningServer, client: openai.OpenAI, base_model: str) -> None:
    client.chat.completions.create(model=base_model, messages=[{"role": "user", "content": "hi"}],
                                   max_tokens=2)
    httpx.get(f"{server.base_url}/v1/models", headers={"Authorization": f"Bearer {WRONG_KEY}"}, timeout=10)
    log = server.log()
    assert "request chatcmpl-" in log  # the log is being written: one line per request
    assert API_KEY not in log
    assert WRONG_KEY not in log
