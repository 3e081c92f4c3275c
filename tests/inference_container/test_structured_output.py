"""`response_format` through the official client on a real server: JSON object and JSON schema replies."""

import json
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from transformers import AutoTokenizer

from devtools.tiny_model import TinyModelPaths
from tests.inference_container.conftest import RunningServer

pytestmark = pytest.mark.slow

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Describe a pet as JSON."}]
PET = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "legs": {"type": "integer", "minimum": 0, "maximum": 8},
        "kind": {"enum": ["cat", "dog", "bird"]},
        "vaccinated": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 3},
    },
    "required": ["name", "legs", "kind", "vaccinated", "tags"],
    "additionalProperties": False,
}
PET_FORMAT: Any = {"type": "json_schema", "json_schema": {"name": "pet", "schema": PET, "strict": True}}


def test_json_schema_replies_parse_and_validate(client: openai.OpenAI, base_model: str) -> None:
    """Greedy and four seeded sampled choices, each a document the schema accepts, ended by the grammar."""
    for options in ({"temperature": 0}, {"temperature": 1.2, "seed": 7, "n": 4}):
        reply = client.chat.completions.create(model=base_model, messages=USER,
                                               response_format=PET_FORMAT, max_tokens=150, **options)
        for choice in reply.choices:
            assert choice.finish_reason == "stop", choice.message.content
            jsonschema.validate(json.loads(choice.message.content or ""), PET)


def test_the_fine_tune_and_a_streamed_reply_keep_to_the_schema(client: openai.OpenAI, base_model: str) -> None:
    adapter = next(m.id for m in client.models.list().data if m.id != base_model)
    stream = client.chat.completions.create(model=adapter, messages=USER,
                                            response_format=PET_FORMAT, max_tokens=150, temperature=0.8,
                                            seed=3, stream=True)
    parts, finish = [], None
    for chunk in stream:
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert finish == "stop"
    jsonschema.validate(json.loads("".join(parts)), PET)


def test_json_object_on_chat_and_completions(client: openai.OpenAI, base_model: str,
                                             tiny_share: TinyModelPaths) -> None:
    """Free-form keys let the tiny model ramble; a logit_bias towards quotes and braces lets it close sooner."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_share.base_dir)
    closing = {str(t): 6 for t in range(len(tokenizer)) if set(tokenizer.decode([t])) & set('"}')}
    chat = client.chat.completions.create(model=base_model, messages=USER,
                                          response_format={"type": "json_object"}, max_tokens=200,
                                          temperature=1.0, seed=2, logit_bias=closing)
    text = client.completions.create(model=base_model, prompt="A JSON object:", max_tokens=200, temperature=1.0,
                                     seed=5, logit_bias=closing,
                                     extra_body={"response_format": {"type": "json_object"}})
    for content, finish in ((chat.choices[0].message.content, chat.choices[0].finish_reason),
                            (text.choices[0].text, text.choices[0].finish_reason)):
        assert finish == "stop", content
        assert isinstance(json.loads(content or ""), dict)


def test_a_reply_cut_by_max_tokens_says_length(client: openai.OpenAI, base_model: str) -> None:
    reply = client.chat.completions.create(model=base_model, messages=USER,
                                           response_format=PET_FORMAT, max_tokens=4, temperature=0)
    content = reply.choices[0].message.content or ""
    assert reply.choices[0].finish_reason == "length"
    assert len(content) >= 4 and '{"name":"'.startswith(content[:9]), content  # the start the schema forces


@pytest.mark.parametrize(("response_format", "param", "says"), [
    ({"type": "json_schema", "json_schema": {"name": "bad", "schema": {"type": "strnig"}}},
     "response_format.json_schema.schema", "strnig"),
    ({"type": "json_schema", "json_schema": {"name": "has space", "schema": {}}}, "name", "pattern"),
    ({"type": "json_schema"}, "json_schema", "Field required"),
    ({"type": "xml"}, "response_format", "xml"),
])
def test_a_schema_or_format_it_cannot_use_is_a_400_naming_it(server: RunningServer, base_model: str,
                                                              response_format: Any, param: str, says: str) -> None:
    answer = httpx.post(f"{server.base_url}/v1/chat/completions", headers=server.headers(), timeout=60,
                        json={"model": base_model, "messages": USER, "response_format": response_format})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert param in (error["param"] or "") and says in error["message"], error
