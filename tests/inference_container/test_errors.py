"""Bad input gets the documented 4xx in OpenAI's error shape, and the server stays healthy."""

import httpx
import openai
import pytest

from tests.inference_container.conftest import RunningServer

pytestmark = pytest.mark.slow

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def context(client: openai.OpenAI) -> int:
    """The served context length, as /v1/models reports it."""
    return int(next(iter(client.models.list())).max_model_len)  # type: ignore[attr-defined]


def _post(server: RunningServer, path: str, body: object) -> httpx.Response:
    return httpx.post(f"{server.base_url}/v1/{path}", json=body, headers=server.headers(), timeout=30)


def _assert_openai_error(response: httpx.Response, status: int, param: str | None = None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if param is not None:
        assert error["param"] == param
    return str(error["message"])


@pytest.mark.parametrize(("body", "param"), [
    ({"messages": USER}, "model"),
    ({"model": "tiny-chat"}, "messages"),
    ({"model": "tiny-chat", "messages": []}, "messages"),
    ({"model": "tiny-chat", "messages": "hi"}, "messages"),
    ({"model": "tiny-chat", "messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
    ({"model": "tiny-chat", "messages": [{"content": "hi"}]}, "messages.0.role"),
    ({"model": "tiny-chat", "messages": USER, "max_tokens": 0}, "max_tokens"),
    ({"model": "tiny-chat", "messages": USER, "max_completion_tokens": -3}, "max_completion_tokens"),
    ({"model": "tiny-chat", "messages": USER, "temperature": -1}, "temperature"),
    ({"model": "tiny-chat", "messages": USER, "top_p": 0}, "top_p"),
    ({"model": "tiny-chat", "messages": USER, "n": 9}, "n"),
    ({"model": "tiny-chat", "messages": USER, "top_logprobs": 2}, "top_logprobs"),
    ({"model": "tiny-chat", "messages": USER, "logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ({"model": "tiny-chat", "messages": USER, "logit_bias": {"999999": 5}}, "logit_bias"),
    ({"model": "tiny-chat", "messages": USER, "logit_bias": {"5": 101}}, "logit_bias"),
    ({"model": "tiny-chat", "messages": USER, "frequency_penalty": 2.5}, "frequency_penalty"),
    ({"model": "tiny-chat", "messages": USER, "tools": [{"type": "function", "function": {"name": "f"}}]},
     "tools"),
])
def test_bad_chat_request_is_400_naming_the_field(server: RunningServer, body: dict, param: str) -> None:
    _assert_openai_error(_post(server, "chat/completions", body), 400, param)


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "tiny-chat"}, "prompt"),
    ({"model": "tiny-chat", "prompt": ["a", "b"]}, "prompt"),
    ({"model": "tiny-chat", "prompt": "a", "max_tokens": 0}, "max_tokens"),
    ({"model": "tiny-chat", "prompt": "a", "n": 9}, "n"),
    ({"model": "tiny-chat", "prompt": "a", "logprobs": 6}, "logprobs"),
    ({"model": "tiny-chat", "prompt": "a", "best_of": 2}, "best_of"),
    ({"model": "tiny-chat", "prompt": "a", "echo": True}, "echo"),
    ({"model": "tiny-chat", "prompt": [1, 2, 10**9]}, "prompt"),
    ({"model": "tiny-chat", "prompt": [-1]}, "prompt"),
    ({"model": "tiny-chat", "prompt": "a", "seed": 2**70}, "seed"),
])
def test_bad_completion_request_is_400_naming_the_field(server: RunningServer, body: dict, param: str) -> None:
    _assert_openai_error(_post(server, "completions", body), 400, param)


def test_token_id_prompt_is_accepted(client: openai.OpenAI, base_model: str) -> None:
    reply = client.completions.create(model=base_model, prompt=[5, 6, 7], max_tokens=3, temperature=0,
                                      extra_body={"ignore_eos": True})
    assert reply.usage is not None and reply.usage.prompt_tokens == 3


@pytest.mark.parametrize(("body", "where", "why"), [
    (b'{"model": "tiny-chat", "messages": [', "character 36", "Expecting value"),
    (b'{"model": "tiny-chat",}', "character 22", "Expecting property name"),
])
@pytest.mark.parametrize("path", ["chat/completions", "completions"])
def test_invalid_json_is_400_saying_where(server: RunningServer, path: str, body: bytes, where: str,
                                          why: str) -> None:
    response = httpx.post(f"{server.base_url}/v1/{path}", content=body,
                          headers={**server.headers(), "Content-Type": "application/json"}, timeout=30)
    message = _assert_openai_error(response, 400)
    assert "not valid JSON" in message and where in message and why in message


def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-17", messages=USER)  # type: ignore[arg-type]
    assert caught.value.status_code == 404
    assert "gpt-17" in caught.value.message


@pytest.mark.parametrize(("path", "field"), [("completions", "prompt"), ("chat/completions", "messages")])
def test_prompt_longer_than_context_is_400_naming_the_prompt_field(server: RunningServer, base_model: str,
                                                                   context: int, path: str, field: str) -> None:
    text = "word " * (context + 100)
    prompt = {"prompt": text} if field == "prompt" else {"messages": [{"role": "user", "content": text}]}
    response = _post(server, path, {"model": base_model, "max_tokens": 4, **prompt})
    message = _assert_openai_error(response, 400, field)
    assert response.json()["error"]["code"] == "context_length_exceeded"
    assert f"maximum context length is {context} tokens" in message
    assert int(message.split("prompt has ")[1].split()[0]) > context


def test_completion_prompt_filling_the_context_is_400_naming_prompt(server: RunningServer, base_model: str,
                                                                     context: int) -> None:
    response = _post(server, "completions", {"model": base_model, "prompt": [5] * context, "max_tokens": 1})
    _assert_openai_error(response, 400, "prompt")  # no room for a single token: the prompt must shrink
    assert response.json()["error"]["code"] == "context_length_exceeded"


def test_completion_limit_past_the_context_is_400_naming_max_tokens(server: RunningServer, base_model: str,
                                                                    context: int) -> None:
    response = _post(server, "completions", {"model": base_model, "prompt": [5] * 10, "max_tokens": context})
    message = _assert_openai_error(response, 400, "max_tokens")
    assert response.json()["error"]["code"] == "context_length_exceeded"
    assert f"Reduce max_tokens to at most {context - 10}" in message


@pytest.mark.parametrize("limit", ["max_tokens", "max_completion_tokens"])
def test_token_limit_past_the_context_is_400_naming_the_limit(client: openai.OpenAI, base_model: str,
                                                              context: int, limit: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=base_model, messages=USER,  # type: ignore[call-overload]
                                       **{limit: context + 100})
    assert caught.value.param == limit and caught.value.code == "context_length_exceeded"
    assert f"maximum context length is {context}" in caught.value.message
    assert f"Reduce {limit}" in caught.value.message


def test_default_limit_is_cut_to_the_room_left(client: openai.OpenAI, base_model: str, context: int) -> None:
    reply = client.completions.create(model=base_model, prompt=[5] * (context - 7), temperature=0,
                                      extra_body={"ignore_eos": True})  # completions default to 16 tokens
    assert reply.usage is not None and reply.usage.prompt_tokens == context - 7
    assert reply.usage.completion_tokens == 7
    assert reply.choices[0].finish_reason == "length"


def test_official_client_sees_errors_as_typed_exceptions(client: openai.OpenAI, base_model: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=base_model, messages=USER, n=9)  # type: ignore[arg-type]
    assert caught.value.param == "n"


def test_server_still_healthy_after_bad_input(server: RunningServer, client: openai.OpenAI,
                                              base_model: str) -> None:
    _post(server, "chat/completions", {"model": "tiny-chat", "messages": []})
    httpx.post(f"{server.base_url}/v1/completions", content=b"\xff\xfe", headers=server.headers(), timeout=30)
    assert httpx.get(f"{server.base_url}/health", timeout=10).json()["status"] == "ok"
    assert httpx.get(f"{server.base_url}/ready", timeout=10).status_code == 200
    reply = client.chat.completions.create(model=base_model, messages=USER, max_tokens=2)  # type: ignore[arg-type]
    assert reply.choices[0].finish_reason in {"stop", "length"}
    assert "Traceback" not in server.log()
