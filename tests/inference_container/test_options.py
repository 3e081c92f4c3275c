"""Request options through the official client on a real server: logprobs, n, penalties, logit_bias, seeds."""

import math
from typing import Any

import openai
import pytest
from transformers import AutoTokenizer

from devtools.tiny_model import TinyModelPaths

pytestmark = pytest.mark.slow

USER = [{"role": "user", "content": "Count with me: one two three"}]
FIXED = {"ignore_eos": True}


def _chat(client: openai.OpenAI, model: str, **options: Any) -> Any:
    return client.chat.completions.create(model=model, messages=USER, extra_body=FIXED,  # type: ignore[arg-type]
                                          **options)


def test_chat_logprobs_match_the_greedy_tokens(client: openai.OpenAI, base_model: str) -> None:
    reply = _chat(client, base_model, temperature=0, max_tokens=6, logprobs=True, top_logprobs=4)
    choice = reply.choices[0]
    content = choice.logprobs.content
    assert len(content) == 6
    assert "".join(t.token for t in content) == choice.message.content
    for token in content:
        assert token.logprob <= 0
        assert token.bytes == list(token.token.encode())
        assert len(token.top_logprobs) == 4
        assert token.top_logprobs[0].token == token.token  # greedy picks the most likely token
        assert token.top_logprobs[0].logprob == pytest.approx(token.logprob)
        assert [t.logprob for t in token.top_logprobs] == sorted((t.logprob for t in token.top_logprobs), reverse=True)
        assert sum(math.exp(t.logprob) for t in token.top_logprobs) <= 1 + 1e-5


def test_chat_logprobs_without_alternatives_and_streamed(client: openai.OpenAI, base_model: str) -> None:
    whole = _chat(client, base_model, temperature=0, max_tokens=5, logprobs=True)
    assert [t.top_logprobs for t in whole.choices[0].logprobs.content] == [[]] * 5
    streamed = _chat(client, base_model, temperature=0, max_tokens=5, logprobs=True, top_logprobs=2, stream=True)
    tokens = [t for chunk in streamed for c in chunk.choices if c.logprobs and c.logprobs.content
              for t in c.logprobs.content]
    assert [t.token for t in tokens] == [t.token for t in whole.choices[0].logprobs.content]
    assert all(len(t.top_logprobs) == 2 for t in tokens)


def test_no_logprobs_unless_asked(client: openai.OpenAI, base_model: str) -> None:
    assert _chat(client, base_model, temperature=0, max_tokens=2).choices[0].logprobs is None


def test_completion_logprobs_legacy_shape(client: openai.OpenAI, base_model: str) -> None:
    reply = client.completions.create(model=base_model, prompt="one two", max_tokens=5, temperature=0, logprobs=3,
                                      extra_body=FIXED)
    logprobs = reply.choices[0].logprobs
    assert logprobs is not None and len(logprobs.tokens or []) == 5
    assert "".join(logprobs.tokens or []) == reply.choices[0].text
    assert all(lp is not None and lp <= 0 for lp in logprobs.token_logprobs or [])
    offsets, tokens = logprobs.text_offset or [], logprobs.tokens or []
    assert offsets == [sum(len(t) for t in tokens[:i]) for i in range(len(tokens))]
    for token, top in zip(tokens, logprobs.top_logprobs or [], strict=True):
        assert top is not None and 1 <= len(top) <= 3 and max(top, key=top.__getitem__) == token
    streamed = client.completions.create(model=base_model, prompt="one two", max_tokens=5, temperature=0,
                                         logprobs=3, stream=True, extra_body=FIXED)
    pieces = [c.logprobs for chunk in streamed for c in chunk.choices if c.logprobs and c.logprobs.tokens]
    assert [t for p in pieces for t in p.tokens or []] == tokens
    assert [o for p in pieces for o in p.text_offset or []] == offsets


def test_n_choices_whole_and_streamed(client: openai.OpenAI, base_model: str) -> None:
    greedy = _chat(client, base_model, temperature=0, max_tokens=6, n=3)
    assert [c.index for c in greedy.choices] == [0, 1, 2]
    assert len({c.message.content for c in greedy.choices}) == 1
    assert greedy.usage.completion_tokens == 18
    seeded = [_chat(client, base_model, temperature=1.0, seed=42, max_tokens=12, n=3) for _ in range(2)]
    texts = [[c.message.content for c in reply.choices] for reply in seeded]
    assert texts[0] == texts[1]  # reproducible
    assert len(set(texts[0])) == 3  # each choice has its own draws
    stream = _chat(client, base_model, temperature=1.0, seed=42, max_tokens=12, n=3, stream=True,
                   stream_options={"include_usage": True})
    parts: dict[int, str] = {}
    finishes: dict[int, str | None] = {}
    usage = None
    for chunk in stream:
        usage = chunk.usage or usage
        for c in chunk.choices:
            parts[c.index] = parts.get(c.index, "") + (c.delta.content or "")
            finishes[c.index] = c.finish_reason or finishes.get(c.index)
    assert [parts[i] for i in range(3)] == texts[0]
    assert finishes == {0: "length", 1: "length", 2: "length"}
    assert usage is not None and usage.completion_tokens == 36


def test_completion_n(client: openai.OpenAI, base_model: str) -> None:
    reply = client.completions.create(model=base_model, prompt="one", max_tokens=4, temperature=0, n=2,
                                      extra_body=FIXED)
    assert [c.index for c in reply.choices] == [0, 1] and reply.choices[0].text == reply.choices[1].text


def test_logit_bias_forces_and_bans(client: openai.OpenAI, base_model: str, tiny_share: TinyModelPaths) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_share.base_dir)
    forced_id = tokenizer("two", add_special_tokens=False)["input_ids"][0]
    forced = _chat(client, base_model, temperature=1.0, max_tokens=4, logit_bias={str(forced_id): 100})
    assert forced.choices[0].message.content == tokenizer.decode([forced_id]) * 4
    plain = _chat(client, base_model, temperature=0, max_tokens=3, logprobs=True)
    first = plain.choices[0].logprobs.content[0].token
    banned = {str(i): -100 for i in range(len(tokenizer)) if tokenizer.decode([i]) == first}
    reply = _chat(client, base_model, temperature=0, max_tokens=3, logprobs=True, logit_bias=banned)
    assert banned and reply.choices[0].logprobs.content[0].token != first


def test_penalties_stop_the_greedy_reply_repeating(client: openai.OpenAI, base_model: str) -> None:
    """Long greedy output of the tiny model repeats tokens; a strong frequency penalty spreads it out."""
    plain = _chat(client, base_model, temperature=0, max_tokens=40, logprobs=True)
    penalized = _chat(client, base_model, temperature=0, max_tokens=40, logprobs=True, frequency_penalty=2.0,
                      presence_penalty=2.0)

    def distinct(reply: Any) -> int:
        return len({t.token for t in reply.choices[0].logprobs.content})

    assert distinct(penalized) > distinct(plain)
