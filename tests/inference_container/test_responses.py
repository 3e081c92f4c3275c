"""POST /v1/responses (text subset) on a real server: the official client's `responses.create`, whole and
streamed, the same greedy text as chat, JSON output, and the 400/401/404 refusals."""

import json
import time
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from pydantic import SecretStr

from devtools.tiny_model import TinyModelPaths
from inference_container.app import create_app
from inference_container.settings import Settings
from tests.inference_container.conftest import RunningServer

FIXED = {"ignore_eos": True}
HELLO = "Say hello."
TURNS: Any = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": [{"type": "output_text", "text": "Hello"}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Count "},
                                                    {"type": "input_text", "text": "to three."}]},
]
CHAT_TURNS: Any = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Count to three."}]
PET = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 12}, "legs": {"type": "integer", "minimum": 0,
                                                                         "maximum": 8}},
    "required": ["name", "legs"],
    "additionalProperties": False,
}
DEADLINE_SECONDS = 60.0


def _chat_text(client: openai.OpenAI, model: str, messages: Any, tokens: int) -> tuple[str, int]:
    """Chat's greedy text for `messages` at exactly `tokens` tokens, and its prompt's token count."""
    reply = client.chat.completions.create(model=model, messages=messages, max_completion_tokens=tokens,
                                           temperature=0, extra_body=FIXED)
    assert reply.usage is not None
    return reply.choices[0].message.content or "", reply.usage.prompt_tokens


def _post(server: RunningServer, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{server.base_url}/v1/responses", json=body, timeout=60,
                      headers=server.headers() if headers is None else headers)


@pytest.mark.slow
def test_whole_reply_cut_by_the_limit_is_incomplete_with_chats_greedy_text(client: openai.OpenAI,
                                                                            base_model: str) -> None:
    raw = client.responses.with_raw_response.create(
        model=base_model, input=HELLO, max_output_tokens=8, temperature=0, metadata={"run": "one"}, store=True,
        user="tester", extra_body=FIXED)
    assert raw.headers["x-adapter-version"] == "base"
    response = raw.parse()
    assert response.object == "response" and response.id.startswith("resp_")
    assert response.status == "incomplete"
    assert response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    usage = response.usage
    assert usage is not None and usage.output_tokens == 8
    assert usage.total_tokens == usage.input_tokens + 8
    assert usage.input_tokens_details.cached_tokens == 0 and usage.output_tokens_details.reasoning_tokens == 0
    [message] = response.output
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert message.status == "incomplete"
    assert [part.type for part in message.content] == ["output_text"]
    text, prompt_tokens = _chat_text(client, base_model, [{"role": "user", "content": HELLO}], 8)
    assert response.output_text and response.output_text == text
    assert usage.input_tokens == prompt_tokens
    assert (response.model, response.max_output_tokens, response.temperature, response.top_p) \
        == (base_model, 8, 0.0, 1.0)
    assert response.metadata == {"run": "one"} and response.user == "tester"
    assert response.model_dump()["store"] is False  # accepted, but nothing is kept
    assert response.text is not None and response.text.format is not None and response.text.format.type == "text"
    assert (response.tools, response.tool_choice, response.error) == ([], "auto", None)


@pytest.mark.slow
def test_instructions_and_message_items_read_as_chat_with_a_system_message(client: openai.OpenAI,
                                                                           base_model: str) -> None:
    adapter = next(m.id for m in client.models.list() if getattr(m, "parent", None) == base_model)
    response = client.responses.create(model=adapter, instructions="You are terse.", input=TURNS,
                                       max_output_tokens=10, temperature=0, extra_body=FIXED)
    text, prompt_tokens = _chat_text(client, adapter, CHAT_TURNS, 10)
    assert response.output_text == text
    assert response.usage is not None and response.usage.input_tokens == prompt_tokens
    assert response.instructions == "You are terse." and response.model == adapter


@pytest.mark.slow
def test_stream_events_in_order_with_deltas_that_make_the_text(client: openai.OpenAI, base_model: str) -> None:
    whole = client.responses.create(model=base_model, input=HELLO, max_output_tokens=8, temperature=0,
                                    extra_body=FIXED)
    events = list(client.responses.create(model=base_model, input=HELLO, max_output_tokens=8, temperature=0,
                                          stream=True, extra_body=FIXED))
    kinds = [event.type for event in events]
    deltas = [event for event in events if event.type == "response.output_text.delta"]
    assert kinds == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.content_part.added", *["response.output_text.delta"] * len(deltas),
                     "response.output_text.done", "response.content_part.done", "response.output_item.done",
                     "response.incomplete"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    created, last = events[0], events[-1]
    assert created.response.status == "in_progress" and created.response.output == []  # type: ignore[union-attr]
    text = "".join(event.delta for event in deltas)
    done = events[-4]
    assert done.type == "response.output_text.done" and done.text == text
    final = last.response  # type: ignore[union-attr]
    assert final.status == "incomplete" and final.output_text == text == whole.output_text
    assert final.usage is not None and final.usage.output_tokens == 8
    assert final.id == created.response.id  # type: ignore[union-attr]
    item_ids = {final.output[0].id, events[2].item.id, *(event.item_id for event in deltas)}  # type: ignore[union-attr]
    assert len(item_ids) == 1


@pytest.mark.slow
def test_stream_lines_name_each_event_and_end_without_done(server: RunningServer, base_model: str) -> None:
    body = {"model": base_model, "input": HELLO, "max_output_tokens": 3, "temperature": 0, "stream": True}
    with httpx.stream("POST", f"{server.base_url}/v1/responses", json=body, headers=server.headers(),
                      timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-adapter-version"] == "base"
        lines = [line for line in response.iter_lines() if line]
    assert "data: [DONE]" not in lines
    names, data = lines[0::2], lines[1::2]
    assert len(names) == len(data)
    for name, payload in zip(names, data, strict=True):
        assert name.startswith("event: ") and payload.startswith("data: ")
        assert json.loads(payload.removeprefix("data: "))["type"] == name.removeprefix("event: ")
    assert names[-1] in ("event: response.completed", "event: response.incomplete")


@pytest.mark.slow
def test_json_schema_format_gives_json_the_schema_accepts(client: openai.OpenAI, base_model: str) -> None:
    """`text.format` is flat here (chat nests it under `json_schema`); the grammar ends the reply: completed."""
    text_format: Any = {"type": "json_schema", "name": "pet", "schema": PET, "strict": True}
    response = client.responses.create(model=base_model, input="Describe a pet as JSON.", temperature=0,
                                       max_output_tokens=150, text={"format": text_format})
    assert response.status == "completed", response.output_text
    jsonschema.validate(json.loads(response.output_text), PET)
    assert response.text is not None
    assert response.text.model_dump(by_alias=True, exclude_none=True) == {"format": text_format}  # echoed


@pytest.mark.slow
def test_closing_a_stream_cancels_the_run(server: RunningServer, base_model: str) -> None:
    aborted_before = server.metric('vllm:request_success_total{finished_reason="abort"}')
    tokens_before = server.metric("vllm:generation_tokens_total")
    with server.client(max_retries=0).responses.create(model=base_model, input=HELLO, max_output_tokens=2000,
                                                       stream=True, extra_body=FIXED) as stream:
        deltas = 0
        for event in stream:
            deltas += event.type == "response.output_text.delta"
            if deltas == 3:
                break
    deadline = time.monotonic() + DEADLINE_SECONDS
    while server.metric('vllm:request_success_total{finished_reason="abort"}') <= aborted_before:
        assert time.monotonic() < deadline, "the closed stream's run was not cancelled"
        time.sleep(0.1)  # polling interval, bounded by the deadline
    assert server.metric("vllm:generation_tokens_total") - tokens_before < 2000


@pytest.mark.slow
@pytest.mark.parametrize(("body", "param"), [
    ({"previous_response_id": "resp_0123"}, "previous_response_id"),
    ({"tools": [{"type": "function", "name": "f", "parameters": {}}]}, "tools"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"reasoning": {"effort": "low"}}, "reasoning"),
    ({"background": True}, "background"),
    ({"include": ["message.output_text.logprobs"]}, "include"),
    ({"n": 2}, "n"),
    ({"max_tokens": 5}, "max_tokens"),
    ({"response_format": {"type": "json_object"}}, "response_format"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "http://x/y.png"}]}]}, "input"),
    ({"input": [{"type": "function_call_output", "call_id": "c", "output": "4"}]}, "input"),
    ({"input": []}, "input"),
    ({"max_output_tokens": 0}, "max_output_tokens"),
    ({"text": {"format": {"type": "json_schema", "name": "has space", "schema": {}}}}, "text.format.json_schema.name"),
])
def test_refusals_are_400_naming_the_field(server: RunningServer, base_model: str, body: dict[str, Any],
                                           param: str) -> None:
    answer = _post(server, {"model": base_model, "input": HELLO, **body})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert error["message"]


@pytest.mark.slow
def test_harmless_tool_settings_and_false_flags_are_accepted(server: RunningServer, base_model: str) -> None:
    body = {"model": base_model, "input": HELLO, "max_output_tokens": 2, "tools": [], "tool_choice": "none",
            "background": False, "truncation": "disabled", "store": False}
    assert _post(server, body).status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize(("body", "param"), [({"max_output_tokens": 100_000}, "max_output_tokens"),
                                             ({"input": "word " * 5000}, "input")])
def test_context_overflow_names_the_responses_fields(server: RunningServer, base_model: str, body: dict[str, Any],
                                                     param: str) -> None:
    answer = _post(server, {"model": base_model, "input": HELLO, **body})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["param"]) == ("context_length_exceeded", param) and param in error["message"]


@pytest.mark.slow
def test_unknown_model_is_404_and_no_key_is_401(server: RunningServer, client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.create(model="no-such-model", input=HELLO, max_output_tokens=2)
    assert missing.value.code == "model_not_found"
    answer = _post(server, {"model": "tiny-chat", "input": HELLO}, headers={})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_api_key"


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {str(node["$ref"])} if "$ref" in node else {ref for value in node.values() for ref in _references(value)}
    if isinstance(node, list):
        return {ref for value in node for ref in _references(value)}
    return set()


def test_document_declares_the_route_with_its_events(tiny_share: TinyModelPaths) -> None:
    """JSON or server-sent events (one schema per event kind, written in place), the generation errors, and
    every schema the events refer to among the components."""
    settings = Settings(model_path=tiny_share.base_dir, adapter_path=tiny_share.adapter_dir,
                        api_key=SecretStr("key"))
    document = create_app(settings).openapi()
    answers = document["paths"]["/v1/responses"]["post"]["responses"]
    assert set(answers) == {"200", "400", "401", "404", "429", "500", "503"}
    assert set(answers["200"]["content"]) == {"application/json", "text/event-stream"}
    assert answers["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ResponseObject")
    event = answers["200"]["content"]["text/event-stream"]["schema"]
    kinds = event["properties"]["event"]["enum"]
    assert {"response.created", "response.output_text.delta", "response.completed", "response.incomplete"} <= set(kinds)
    data = event["properties"]["data"]["contentSchema"]["oneOf"]
    types = [one["properties"]["type"] for one in data]
    assert sorted(kind for each in types for kind in each.get("enum", [each.get("const")])) == sorted(kinds)
    assert all({"type", "sequence_number"} <= set(one["required"]) for one in data)
    schemas = document["components"]["schemas"]
    assert {ref.rsplit("/", 1)[1] for ref in _references(document)} <= set(schemas)
