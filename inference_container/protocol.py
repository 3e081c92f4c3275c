"""Pydantic models of the OpenAI API subset this server speaks."""

import time
import uuid
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Options OpenAI defines that this server does not implement; a request that sets one gets a 400 naming it.
_UNSUPPORTED = ("logprobs", "top_logprobs", "tools", "tool_choice", "functions", "function_call",
                "logit_bias", "response_format", "best_of", "echo", "suffix", "audio", "modalities",
                "prediction", "presence_penalty", "frequency_penalty")


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


class SamplingRequest(BaseModel):
    """Fields shared by chat and completion requests."""

    model_config = ConfigDict(extra="allow")

    model: str
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=-(2**63), le=2**64 - 1)
    n: int | None = None
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

    def unsupported_option(self) -> str | None:
        """The name of the first option set that this server does not implement, or None."""
        if self.n not in (None, 1):
            return "n"
        extra = self.model_extra or {}
        for name in _UNSUPPORTED:
            value = extra.get(name)
            if value not in (None, False, 0, [], {}) and not (name == "response_format" and _is_text(value)):
                return name
        return None


def _is_text(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "text"


class ChatCompletionRequest(SamplingRequest):
    """Body of POST /v1/chat/completions."""

    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)

    prompt_param: ClassVar[str] = "messages"

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

    default_token_limit: ClassVar[int | None] = 16  # as OpenAI's completions
    prompt_param: ClassVar[str] = "prompt"


class UsageInfo(BaseModel):
    """Token counts of one request."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ResponseMessage(BaseModel):
    """The assistant message of a non-streamed chat reply."""

    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    """A choice of a non-streamed chat reply."""

    index: int = 0
    message: ResponseMessage
    finish_reason: str | None
    logprobs: None = None


class DeltaMessage(BaseModel):
    """The increment carried by a streamed chat chunk."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChatChunkChoice(BaseModel):
    """A choice of a streamed chat chunk."""

    index: int = 0
    delta: DeltaMessage
    finish_reason: str | None = None
    logprobs: None = None


class CompletionChoice(BaseModel):
    """A choice of a completion reply or chunk."""

    index: int = 0
    text: str
    finish_reason: str | None = None
    logprobs: None = None


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
