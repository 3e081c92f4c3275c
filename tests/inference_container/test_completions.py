"""Text completions through the official client."""

from typing import Any

import openai
import pytest

pytestmark = pytest.mark.slow


def test_completion_whole_reply(client: openai.OpenAI, base_model: str) -> None:
    reply = client.completions.create(model=base_model, prompt="Once upon a time", max_tokens=7, temperature=0,
                                      extra_body={"ignore_eos": True})
    assert reply.object == "text_completion"
    assert reply.choices[0].text
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 7


def test_completion_default_max_tokens_is_16(client: openai.OpenAI, base_model: str) -> None:
    reply = client.completions.create(model=base_model, prompt="Once", temperature=0,
                                      extra_body={"ignore_eos": True})
    assert reply.usage is not None and reply.usage.completion_tokens == 16


def test_completion_stream_equals_whole_and_reports_usage(client: openai.OpenAI, base_model: str) -> None:
    whole = client.completions.create(model=base_model, prompt="The sea", max_tokens=9, temperature=0,
                                      extra_body={"ignore_eos": True})
    chunks = list(client.completions.create(model=base_model, prompt="The sea", max_tokens=9, temperature=0,
                                            stream=True, stream_options={"include_usage": True},
                                            extra_body={"ignore_eos": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 9
    assert "".join(c.choices[0].text for c in chunks[:-1]) == whole.choices[0].text
    assert chunks[-2].choices[0].finish_reason == "length"


def test_completion_stop_string(client: openai.OpenAI, base_model: str) -> None:
    full = client.completions.create(model=base_model, prompt="The sea", max_tokens=24, temperature=0,
                                     extra_body={"ignore_eos": True}).choices[0].text
    stop = full[3:6]
    reply = client.completions.create(model=base_model, prompt="The sea", max_tokens=24, temperature=0,
                                      stop=stop, extra_body={"ignore_eos": True})
    assert reply.choices[0].text == full[: full.find(stop)]
    assert reply.choices[0].finish_reason == "stop"


SEEDS = range(6)  # sampled replies of the tiny model: words, stray bytes (U+FFFD) and some multi-byte characters


def _sampled(client: openai.OpenAI, model: str, seed: int, stream: bool, stop: str | None = None) -> tuple[str, str]:
    """The text and finish reason of one seeded, sampled completion, streamed or whole."""
    options: dict[str, Any] = {"model": model, "prompt": "Once upon a time", "max_tokens": 64, "temperature": 1.0,
                               "seed": seed, "stop": stop, "extra_body": {"ignore_eos": True}}
    if not stream:
        choice = client.completions.create(**options).choices[0]
        return choice.text, str(choice.finish_reason)
    chunks = list(client.completions.create(stream=True, **options))
    return "".join(c.choices[0].text for c in chunks), str(chunks[-1].choices[0].finish_reason)


def _multibyte_at(text: str) -> int | None:
    """Where `text` has a whole multi-byte character with two clean characters before it, if anywhere."""
    for i, char in enumerate(text[2:], start=2):
        if ord(char) > 127 and "\ufffd" not in text[i - 2:i + 1]:
            return i
    return None


def test_seeded_stream_equals_whole_reply_including_multibyte_characters(client: openai.OpenAI,
                                                                         base_model: str) -> None:
    whole = {seed: _sampled(client, base_model, seed, stream=False) for seed in SEEDS}
    assert {seed: _sampled(client, base_model, seed, stream=True) for seed in SEEDS} == whole
    assert any(_multibyte_at(text) is not None for text, _ in whole.values())  # the property was exercised


def test_stop_string_across_tokens_cuts_stream_and_whole_reply_alike(client: openai.OpenAI,
                                                                     base_model: str) -> None:
    texts = {seed: _sampled(client, base_model, seed, stream=False)[0] for seed in SEEDS}
    seed, at = next((s, i) for s, t in texts.items() if (i := _multibyte_at(t)) is not None)
    stop = texts[seed][at - 2:at + 1]  # two characters, then a character of several bytes (so several tokens)
    expected = (texts[seed][:texts[seed].find(stop)], "stop")
    assert _sampled(client, base_model, seed, stream=False, stop=stop) == expected
    assert _sampled(client, base_model, seed, stream=True, stop=stop) == expected
