"""Pydantic models of the OpenAI API subset this server speaks."""

import time
import uuid
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Options OpenAI defines that this server does not implement; a request that sets one gets a 400 naming it.
# (`best_of` is accepted only as 1: it would sample several and return the best, which this server does not.)
_UNSUPPORTED = ("tools", "tool_choice", "functions", "function_call", "best_of", "echo", "suffix", "audio",
                "modalities", "prediction")


class StreamOptions(BaseModel):
    """`stream_options` of a streamed request."""

    include_usage: bool = False


class TextPart(BaseModel):
    """One text part of a multi-part message content."""

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    """One chat message; content may be a string or a list of text parts."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        """The message's content as one string."""
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class TextFormat(BaseModel):
    """`response_format` {"type": "text"}: free text, the default."""

    type: Literal["text"]


class JsonObjectFormat(BaseModel):
    """`response_format` {"type": "json_object"}: the reply is one JSON object (any keys)."""

    type: Literal["json_object"]


class JsonSchemaSpec(BaseModel):
    """`json_schema` of a `json_schema` response format: the reply is JSON valid against `schema`."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str | None = None
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")  # {}: any JSON value
    strict: bool | None = None  # accepted either way: this server always holds the reply to the schema


class JsonSchemaFormat(BaseModel):
    """`response_format` {"type": "json_schema", "json_schema": {...}}."""

    type: Literal["json_schema"]
    json_schema: JsonSchemaSpec


ResponseFormat = Annotated[TextFormat | JsonObjectFormat | JsonSchemaFormat, Field(discriminator="type")]


class SamplingRequest(BaseModel):
    """Fields shared by chat and completion requests."""

    model_config = ConfigDict(extra="allow")

    model: str
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=-(2**63), le=2**64 - 1)
    n: int | None = Field(default=None, ge=1)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    logit_bias: dict[str, float] | None = None  # token id (as a string) -> bias in [-100, 100]
    top_k: int | None = Field(default=None, ge=-1)  # vLLM's extension; -1, 0 or None: no cut
    response_format: ResponseFormat | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    ignore_eos: bool = False
    user: str | None = None

    default_token_limit: ClassVar[int | None] = None  # None: whatever room the context leaves
    prompt_param: ClassVar[str]  # the request field holding the prompt, for error messages

    def token_limit(self) -> int | None:
        """The most tokens to generate as the client asked (None: not asked); each endpoint refines it."""
        return self.max_tokens

    def token_limit_param(self) -> str:
        """The request field the limit came from, for error messages."""
        return "max_tokens"

    def stop_list(self) -> list[str]:
        """Stop strings as a list without empties."""
        stops = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        return [s for s in stops if s]

    def logprob_count(self) -> int | None:
        """How many alternatives to return per token (None: no logprobs); each endpoint spells it its way."""
        return None

    def logprobs_problem(self) -> str | None:
        """Why the logprobs options contradict each other, or None."""
        return None

    def unsupported_option(self) -> str | None:
        """The name of the first option set that this server does not implement, or None."""
        extra = self.model_extra or {}
        for name in _UNSUPPORTED:
            value = extra.get(name)
            if name == "best_of" and value == 1:
                continue
            if value not in (None, False, 0, [], {}):
                return name
        return None


class ChatCompletionRequest(SamplingRequest):
    """Body of POST /v1/chat/completions."""

    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)

    prompt_param: ClassVar[str] = "messages"

    def logprob_count(self) -> int | None:
        """`logprobs: true` with `top_logprobs` alternatives (0 when not given)."""
        return (self.top_logprobs or 0) if self.logprobs else None

    def logprobs_problem(self) -> str | None:
        """`top_logprobs` without `logprobs: true` (OpenAI refuses it too)."""
        if self.top_logprobs is not None and not self.logprobs:
            return "'top_logprobs' needs 'logprobs': true"
        return None

    def token_limit(self) -> int | None:
        """max_completion_tokens if given, else max_tokens."""
        return self.max_completion_tokens or self.max_tokens

    def token_limit_param(self) -> str:
        """max_completion_tokens when that is what the client sent."""
        return "max_completion_tokens" if self.max_completion_tokens else "max_tokens"


class CompletionRequest(SamplingRequest):
    """Body of POST /v1/completions."""

    prompt: str | list[str] | list[int]

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, value: str | list[str] | list[int]) -> str | list[str] | list[int]:
        if isinstance(value, list) and (not value or (isinstance(value[0], str) and len(value) != 1)):
            raise ValueError("give exactly one prompt (a string or a list of token ids)")
        return value

    logprobs: int | None = Field(default=None, ge=0, le=5)

    default_token_limit: ClassVar[int | None] = 16  # as OpenAI's completions

    def logprob_count(self) -> int | None:
        """`logprobs: k`: the chosen token's logprob and the k most likely tokens'."""
        return self.logprobs
    prompt_param: ClassVar[str] = "prompt"


class UsageInfo(BaseModel):
    """Token counts of one request."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class TopLogprob(BaseModel):
    """A token and its log-probability (chat shape); `bytes` is the UTF-8 of `token`."""

    token: str
    logprob: float
    bytes: list[int] | None = None


class ChatTokenLogprob(TopLogprob):
    """A generated token (chat shape) with the most likely tokens at its position."""

    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class ChatLogprobs(BaseModel):
    """`choices[].logprobs` of a chat reply or chunk."""

    content: list[ChatTokenLogprob] | None = None
    refusal: list[ChatTokenLogprob] | None = None


class CompletionLogprobs(BaseModel):
    """`choices[].logprobs` of a completion reply or chunk (the legacy shape)."""

    tokens: list[str] = Field(default_factory=list)
    token_logprobs: list[float | None] = Field(default_factory=list)
    top_logprobs: list[dict[str, float] | None] = Field(default_factory=list)
    text_offset: list[int] = Field(default_factory=list)


class ResponseMessage(BaseModel):
    """The assistant message of a non-streamed chat reply."""

    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    """A choice of a non-streamed chat reply."""

    index: int = 0
    message: ResponseMessage
    finish_reason: str | None
    logprobs: ChatLogprobs | None = None


class DeltaMessage(BaseModel):
    """The increment carried by a streamed chat chunk."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChatChunkChoice(BaseModel):
    """A choice of a streamed chat chunk."""

    index: int = 0
    delta: DeltaMessage
    finish_reason: str | None = None
    logprobs: ChatLogprobs | None = None


class CompletionChoice(BaseModel):
    """A choice of a completion reply or chunk."""

    index: int = 0
    text: str
    finish_reason: str | None = None
    logprobs: CompletionLogprobs | None = None


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _now() -> int:
    return int(time.time())


ChoiceT = TypeVar("ChoiceT", ChatChoice, ChatChunkChoice, CompletionChoice)


class _Envelope(BaseModel, Generic[ChoiceT]):
    """What every reply and chunk carries; subclasses set `object` and, for replies, an `id` default."""

    created: int = Field(default_factory=_now)
    model: str
    usage: UsageInfo | None = None
    id: str
    object: str
    choices: list[ChoiceT]
    system_fingerprint: str | None = None  # `adapter-<version>` or `base`: the weights that produced it


class ChatCompletionResponse(_Envelope[ChatChoice]):
    """A non-streamed chat reply."""

    id: str = Field(default_factory=lambda: _new_id("chatcmpl"))
    object: Literal["chat.completion"] = "chat.completion"


class ChatCompletionChunk(_Envelope[ChatChunkChoice]):
    """One SSE chunk of a streamed chat reply."""

    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"


class CompletionResponse(_Envelope[CompletionChoice]):
    """A completion reply, or one SSE chunk of a streamed one."""

    id: str = Field(default_factory=lambda: _new_id("cmpl"))
    object: Literal["text_completion"] = "text_completion"


class ModelCard(BaseModel):
    """One entry of GET /v1/models."""

    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=_now)
    owned_by: str = "inference_container"
    root: str
    parent: str | None = None
    max_model_len: int | None = None


class ModelList(BaseModel):
    """Body of GET /v1/models."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
