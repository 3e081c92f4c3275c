"""The swap's gate: prompts run greedily on the new weights before any client request is admitted again.

Each prompt must finish within the deadline, produce non-empty text and contain every expected substring.
The prompts run together, as internal requests, while the engine holds client requests back.
"""

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from jinja2 import TemplateError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from inference_container.engine import Engine, Finished, GenerationRequest, SamplingParams, TextDelta
from inference_container.engine.types import Event
from inference_container.protocol import ChatMessage


class GatePrompt(BaseModel):
    """One gate prompt: chat `messages` or a raw `prompt`, and the substrings its reply must contain."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] | None = Field(default=None, min_length=1)
    prompt: str | None = Field(default=None, min_length=1)
    expect: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_prompt(self) -> "GatePrompt":
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give exactly one of 'messages' and 'prompt'")
        return self

    def shown(self) -> str:
        """The prompt as the transcript shows it."""
        if self.prompt is not None:
            return self.prompt
        return "\n".join(f"{m.role}: {m.text()}" for m in self.messages or [])


class GateSpec(BaseModel):
    """The `gate` of a swap request."""

    model_config = ConfigDict(extra="forbid")

    prompts: list[GatePrompt] = Field(min_length=1, max_length=64)
    deadline_s: float = Field(default=30.0, gt=0, le=600)
    max_tokens: int = Field(default=16, ge=1, le=4096)


@dataclass
class GateEntry:
    """The transcript line of one gate prompt."""

    prompt: str
    reply: str
    passed: bool
    seconds: float
    reason: str | None = None


@dataclass
class GateResult:
    """Whether every prompt passed, and the transcript."""

    passed: bool
    transcript: list[GateEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The `gate` field of the swap's answer."""
        return {"passed": self.passed, "transcript": [asdict(entry) for entry in self.transcript]}


class _Pending:
    """One gate request in flight: its text so far and its end, filled in from the engine thread."""

    def __init__(self, request_id: str, prompt_ids: list[int], max_tokens: int) -> None:
        self.parts: list[str] = []
        self.finished: Finished | None = None
        self.done = threading.Event()
        self.started = time.monotonic()
        self.seconds = 0.0
        params = SamplingParams(max_new_tokens=max_tokens, temperature=0.0)
        self.request = GenerationRequest(request_id, prompt_ids, params, self._emit, internal=True)

    def _emit(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.parts.append(event.text)
        elif isinstance(event, Finished):
            self.parts.append(event.text)
            self.finished, self.seconds = event, time.monotonic() - self.started
            self.done.set()


def run_gate(engine: Engine, tokenizer: Any, max_model_len: int, spec: GateSpec) -> GateResult:
    """Run every gate prompt on the weights serving now (the engine holds clients back); judge the replies."""
    deadline = time.monotonic() + spec.deadline_s
    pending: list[tuple[GatePrompt, _Pending | str]] = []
    for index, prompt in enumerate(spec.prompts):
        ids_or_reason = _prompt_ids(tokenizer, prompt, max_model_len, spec.max_tokens)
        if isinstance(ids_or_reason, str):
            pending.append((prompt, ids_or_reason))
            continue
        running = _Pending(f"gate-{index}", ids_or_reason, spec.max_tokens)
        engine.submit(running.request)
        pending.append((prompt, running))
    transcript = [_judge(prompt, running, deadline, spec.deadline_s, engine) for prompt, running in pending]
    return GateResult(all(entry.passed for entry in transcript), transcript)


def _judge(prompt: GatePrompt, running: "_Pending | str", deadline: float, deadline_s: float,
           engine: Engine) -> GateEntry:
    if isinstance(running, str):
        return GateEntry(prompt.shown(), "", False, 0.0, running)
    if not running.done.wait(max(0.0, deadline - time.monotonic())):
        engine.cancel(running.request)
        return GateEntry(prompt.shown(), "".join(running.parts), False, round(time.monotonic() - running.started, 3),
                         f"no complete reply within deadline_s={deadline_s:g}")
    reply, seconds = "".join(running.parts), round(running.seconds, 3)
    assert running.finished is not None
    if running.finished.reason not in ("stop", "length"):
        return GateEntry(prompt.shown(), reply, False, seconds, f"generation ended with {running.finished.reason}")
    if not reply.strip():
        return GateEntry(prompt.shown(), reply, False, seconds, "empty reply")
    missing = [text for text in prompt.expect if text not in reply]
    if missing:
        return GateEntry(prompt.shown(), reply, False, seconds,
                         "reply lacks expected " + ", ".join(repr(text) for text in missing))
    return GateEntry(prompt.shown(), reply, True, seconds)


def _prompt_ids(tokenizer: Any, prompt: GatePrompt, max_model_len: int, max_tokens: int) -> list[int] | str:
    """The prompt's token ids, or why it cannot run."""
    if prompt.prompt is not None:
        ids = list(tokenizer(prompt.prompt)["input_ids"])
    else:
        messages = [{"role": m.role, "content": m.text()} for m in prompt.messages or []]
        try:
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except (TemplateError, ValueError) as exc:
            return f"the chat template rejected the messages: {exc}"
        ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if not ids:
        return "the prompt is empty"
    if len(ids) + max_tokens > max_model_len:
        return f"prompt ({len(ids)} tokens) + max_tokens ({max_tokens}) exceed the context of {max_model_len}"
    return ids
