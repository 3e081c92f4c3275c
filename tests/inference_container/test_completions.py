"""Text completions through the official client."""

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
