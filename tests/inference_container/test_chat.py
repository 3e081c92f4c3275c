"""Chat completions through the official client: whole and streamed replies, options, finish reasons."""

from typing import Any

import openai
import pytest

pytestmark = pytest.mark.slow

HELLO = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}]


def _greedy(client: openai.OpenAI, model: str, **options: Any) -> Any:
    return client.chat.completions.create(model=model, messages=HELLO, temperature=0,  # type: ignore[arg-type]
                                          **options)


def test_models_list_base_adapter_and_alias_with_parent(client: openai.OpenAI, server) -> None:
    models = list(client.models.list())
    assert [m.id for m in models] == ["tiny-chat", "tiny-chat-adapter", "tiny-chat-finetuned"]
    base, adapter, alias = models
    assert getattr(base, "parent", None) is None
    assert adapter.parent == alias.parent == base.id  # type: ignore[attr-defined]
    assert alias.root == adapter.id  # type: ignore[attr-defined]  # the alias names the version serving now


def test_chat_whole_reply_has_text_usage_and_length_finish(client: openai.OpenAI, base_model: str) -> None:
    reply = _greedy(client, base_model, max_tokens=6, extra_body={"ignore_eos": True})
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 6
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 6


def test_adapter_name_is_accepted(client: openai.OpenAI) -> None:
    adapter = next(m.id for m in client.models.list() if getattr(m, "parent", None))
    reply = _greedy(client, adapter, max_completion_tokens=3, extra_body={"ignore_eos": True})
    assert reply.model == adapter
    assert reply.usage is not None and reply.usage.completion_tokens == 3


def test_stream_matches_whole_reply_and_ends_with_finish_reason(client: openai.OpenAI, base_model: str) -> None:
    whole = _greedy(client, base_model, max_tokens=8, extra_body={"ignore_eos": True})
    chunks = list(_greedy(client, base_model, max_tokens=8, stream=True, extra_body={"ignore_eos": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].choices[0].finish_reason == "length"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    assert len({c.id for c in chunks}) == 1


def test_stream_include_usage_sends_a_final_usage_chunk(client: openai.OpenAI, base_model: str) -> None:
    chunks = list(_greedy(client, base_model, max_tokens=5, stream=True,
                          stream_options={"include_usage": True}, extra_body={"ignore_eos": True}))
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.completion_tokens == 5
    assert chunks[-2].choices[0].finish_reason == "length"


def test_stream_ends_with_done_line(server, base_model: str) -> None:
    import httpx

    body = {"model": base_model, "messages": HELLO, "max_tokens": 3, "stream": True, "temperature": 0}
    with httpx.stream("POST", f"{server.base_url}/v1/chat/completions", json=body, headers=server.headers(),
                      timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"


def test_stop_string_cuts_output_and_finishes_with_stop(client: openai.OpenAI, base_model: str) -> None:
    full = _greedy(client, base_model, max_tokens=24, extra_body={"ignore_eos": True}).choices[0].message.content
    assert full is not None and len(full) >= 8
    stop = full[4:7]
    expected = full[: full.find(stop)]
    for stream in (False, True):
        if stream:
            chunks = list(_greedy(client, base_model, max_tokens=24, stop=[stop, "never-said"], stream=True,
                                  extra_body={"ignore_eos": True}))
            text = "".join(c.choices[0].delta.content or "" for c in chunks)
            finish = chunks[-1].choices[0].finish_reason
        else:
            reply = _greedy(client, base_model, max_tokens=24, stop=stop, extra_body={"ignore_eos": True})
            text, finish = reply.choices[0].message.content or "", reply.choices[0].finish_reason
        assert text == expected
        assert finish == "stop"


def test_seed_makes_sampling_reproducible(client: openai.OpenAI, base_model: str) -> None:
    def sample(seed: int) -> str | None:
        reply = client.chat.completions.create(model=base_model, messages=HELLO, temperature=1.0,  # type: ignore[arg-type]
                                               top_p=0.95, seed=seed, max_tokens=16,
                                               extra_body={"ignore_eos": True})
        return reply.choices[0].message.content

    first = sample(1234)
    assert sample(1234) == first
    assert any(sample(seed) != first for seed in (1, 2, 3))


def test_greedy_is_deterministic(client: openai.OpenAI, base_model: str) -> None:
    texts = {_greedy(client, base_model, max_tokens=10).choices[0].message.content for _ in range(3)}
    assert len(texts) == 1


def test_multi_turn_and_text_parts_are_accepted(client: openai.OpenAI, base_model: str) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}]
    reply = client.chat.completions.create(model=base_model, messages=messages, max_tokens=2)  # type: ignore[arg-type]
    assert reply.usage is not None and reply.usage.prompt_tokens > 5
