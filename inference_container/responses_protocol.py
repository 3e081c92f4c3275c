"""Pydantic models of OpenAI's Responses API, text subset: the request, the Response object, the stream events.

A Responses request runs as a chat request (serving_responses.py); these models are only its outer shape.
"""

import typing
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, field_validator
from pydantic.json_schema import models_json_schema

from inference_container.openapi import EVENT_STREAM
from inference_container.protocol import ChatCompletionRequest, JsonObjectFormat, JsonSchemaSpec, TextFormat

# Options of the Responses API this server does not implement, and chat options a client may carry over, each
# with the field to use instead where there is one; a request that sets one gets a 400 naming it.
UNSUPPORTED: dict[str, str | None] = {
    "previous_response_id": None, "conversation": None, "prompt": None, "background": None, "reasoning": None,
    "include": None, "tools": None, "tool_choice": None, "top_logprobs": None, "truncation": None, "n": None,
    "stop": None, "logprobs": None, "logit_bias": None, "frequency_penalty": None, "presence_penalty": None,
    "max_tokens": "max_output_tokens", "max_completion_tokens": "max_output_tokens",
    "response_format": "text.format", "messages": "input",
}
# Values of those options that ask for what happens anyway: no tool is called, the input is never cut, one reply.
_HARMLESS: dict[str, tuple[object, ...]] = {"tool_choice": ("auto", "none"), "truncation": ("disabled",), "n": (1,)}
_TEXT_PARTS = ("input_text", "output_text")


class InputTextPart(BaseModel):
    """One text part of an input message (`output_text`: a part of an earlier assistant turn)."""

    type: Literal["input_text", "output_text"]
    text: str


class InputMessage(BaseModel):
    """One message item of `input`."""

    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[InputTextPart]

    def text(self) -> str:
        """The message's content as one string."""
        return self.content if isinstance(self.content, str) else "".join(part.text for part in self.content)


class JsonSchemaTextFormat(JsonSchemaSpec):
    """`text.format` {"type": "json_schema", "name", "schema", ...}: chat's `json_schema`, flat."""

    model_config = ConfigDict(serialize_by_alias=True)

    type: Literal["json_schema"]


TextFormatConfig = Annotated[TextFormat | JsonObjectFormat | JsonSchemaTextFormat, Field(discriminator="type")]


class TextConfig(BaseModel):
    """`text`: the reply's format (free text unless JSON is asked for)."""

    format: TextFormatConfig = Field(default_factory=lambda: TextFormat(type="text"))


class ResponsesRequest(BaseModel):
    """Body of POST /v1/responses; `seed` and `ignore_eos` are this server's extensions, as on chat."""

    model_config = ConfigDict(extra="allow")

    model: str
    input: str | Annotated[list[InputMessage], Field(min_length=1)]
    instructions: str | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stream: bool | None = False
    text: TextConfig | None = None
    metadata: Annotated[dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]],
                        Field(max_length=16)] | None = None
    store: bool | None = None  # accepted either way: nothing is kept
    user: str | None = None
    seed: int | None = Field(default=None, ge=-(2**63), le=2**64 - 1)
    ignore_eos: bool = False

    @field_validator("input", mode="wrap")
    @classmethod
    def _one_account(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Name the one thing wrong with `input`, where pydantic tells it once per form `input` may take."""
        if not isinstance(value, str | list):
            raise ValueError("give a string or a list of message items")
        _text_only(value)
        try:
            return handler(value)
        except ValidationError as exc:
            as_list = [error for error in exc.errors() if error["loc"][:1] != ("str",)]  # it is a list
            deepest = max(as_list, key=lambda error: len(error["loc"]))
            where = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in deepest["loc"]
                            if not (isinstance(step, str) and (step == "str" or "[" in step)))  # union forms
            raise ValueError(f"input{where}: {deepest['msg']}") from None

    def unsupported_option(self) -> str | None:
        """The name of the first option set that this server does not implement, or None."""
        extra = self.model_extra or {}
        for name in UNSUPPORTED:
            value = extra.get(name)
            if value not in (None, False, 0, [], {}) and value not in _HARMLESS.get(name, ()):
                return name
        return None


def _text_only(items: str | list[Any]) -> None:
    """Name the first input item or content part that is not text (an image, a file, a tool call)."""
    for i, item in enumerate(items if isinstance(items, list) else []):
        kind = item.get("type", "message") if isinstance(item, dict) else "message"
        if kind != "message":
            raise ValueError(f"input[{i}] is a {kind!r} item; this server reads message items only")
        content = item.get("content") if isinstance(item, dict) else None
        for j, part in enumerate(content if isinstance(content, list) else []):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in _TEXT_PARTS:
                raise ValueError(f"input[{i}].content[{j}] is {kind!r}; this server reads text parts only "
                                 f"({', '.join(_TEXT_PARTS)})")


class ResponsesChatRequest(ChatCompletionRequest):
    """The chat request a Responses request runs as; its limit errors name the Responses fields."""

    prompt_param: ClassVar[str] = "input"

    def token_limit_param(self) -> str:
        """The Responses request's limit."""
        return "max_output_tokens"


class _Reply(BaseModel):
    """A part of what the server sends: every field is always there, defaults included."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class OutputText(_Reply):
    """The text part of the output message."""

    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[dict[str, Any]] = Field(default_factory=list, max_length=0)
    logprobs: list[dict[str, Any]] = Field(default_factory=list, max_length=0)


class OutputMessage(_Reply):
    """The assistant message of `output`."""

    type: Literal["message"] = "message"
    id: str
    status: Literal["in_progress", "completed", "incomplete"]
    role: Literal["assistant"] = "assistant"
    content: list[OutputText]


class InputTokensDetails(_Reply):
    """No prompt cache: nothing is read from or written to one."""

    cached_tokens: int = 0
    cache_write_tokens: int = 0


class OutputTokensDetails(_Reply):
    """No reasoning tokens: every output token is text."""

    reasoning_tokens: int = 0


class ResponseUsage(_Reply):
    """Token counts of one response."""

    input_tokens: int
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int


class IncompleteDetails(_Reply):
    """Why a response is incomplete: the token limit (`max_output_tokens`, or the context) ended it."""

    reason: Literal["max_output_tokens"] = "max_output_tokens"


class ResponseError(_Reply):
    """Why a streamed response failed."""

    code: Literal["server_error"] = "server_error"
    message: str


class ResponseObject(_Reply):
    """A response (`object: "response"`): the reply, or a stream's snapshot; echoes what the request set."""

    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["in_progress", "completed", "incomplete", "failed"]
    background: Literal[False] = False
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | None
    max_output_tokens: int | None
    model: str
    output: list[OutputMessage] = Field(default_factory=list)
    parallel_tool_calls: bool = True
    temperature: float
    text: TextConfig
    tool_choice: Literal["auto", "none"] = "auto"
    tools: list[dict[str, Any]] = Field(default_factory=list, max_length=0)
    top_p: float
    truncation: Literal["disabled"] = "disabled"
    usage: ResponseUsage | None = None
    user: str | None
    metadata: dict[str, str] = Field(default_factory=dict)
    store: Literal[False] = False


class _Event(_Reply):
    """What every stream event carries: its place in the stream, from 0 (set as it is sent)."""

    sequence_number: int = 0


class ResponseEvent(_Event):
    """The response as it stands: created, running, or ended (completed, incomplete, failed)."""

    type: Literal["response.created", "response.in_progress", "response.completed", "response.incomplete",
                  "response.failed"]
    response: ResponseObject


class OutputItemEvent(_Event):
    """The output message begins (empty, in progress) or is done (whole)."""

    type: Literal["response.output_item.added", "response.output_item.done"]
    output_index: int = 0  # the one output item: the message
    item: OutputMessage


class _PartEvent(_Event):
    """An event of the message's text part."""

    item_id: str
    output_index: int = 0
    content_index: int = 0  # the message's one part: its text


class ContentPartEvent(_PartEvent):
    """The text part begins (empty) or is done (whole)."""

    type: Literal["response.content_part.added", "response.content_part.done"]
    part: OutputText


class TextDeltaEvent(_PartEvent):
    """New text of the part."""

    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    delta: str
    logprobs: list[dict[str, Any]] = Field(default_factory=list, max_length=0)


class TextDoneEvent(_PartEvent):
    """The part's whole text."""

    type: Literal["response.output_text.done"] = "response.output_text.done"
    text: str
    logprobs: list[dict[str, Any]] = Field(default_factory=list, max_length=0)


ResponseStreamEvent = ResponseEvent | OutputItemEvent | ContentPartEvent | TextDeltaEvent | TextDoneEvent
_EVENTS: tuple[type[_Event], ...] = typing.get_args(ResponseStreamEvent)
_COMPONENTS = "#/components/schemas/{model}"


def streamed_or_whole_response() -> dict[str, Any]:
    """The 200 of POST /v1/responses for its `responses=`: a ResponseObject as JSON, or with `stream: true`
    server-sent events, each `event: <type>` and `data: <the event as JSON>` (no `[DONE]`).

    Each event's schema is written out in place; what they refer to (ResponseObject and its parts) is among
    the document's components because the JSON answer's model uses it.
    """
    _, defs = models_json_schema([(event, "serialization") for event in _EVENTS], ref_template=_COMPONENTS)
    schemas = defs["$defs"]
    events = [schemas[event.__name__] for event in _EVENTS]
    types = [kind for event in _EVENTS for kind in typing.get_args(event.model_fields["type"].annotation)]
    data = {"type": "string", "contentMediaType": "application/json", "contentSchema": {"oneOf": events}}
    event = {"type": "object", "required": ["event", "data"], "description":
             "One server-sent event: `event: <type>` and `data: <the event as JSON>`, `type` and `sequence_number` "
             "in each.", "properties": {"event": {"type": "string", "enum": types}, "data": data}}
    return {"model": ResponseObject, "description": "ResponseObject as JSON; with `stream: true` server-sent events.",
            "content": {EVENT_STREAM: {"schema": event}}}

