"""What chat and completions share: model names, limits, the engine bridge, SSE plumbing and the request flow."""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Generic, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from inference_container.engine import (
    Admitted,
    Engine,
    Finished,
    GenerationRequest,
    QueueFullError,
    SamplingParams,
    TextDelta,
)
from inference_container.engine.grammar import Grammar, GrammarError, Grammars
from inference_container.engine.types import MAX_N, Event, TokenLogprob
from inference_container.errors import APIError
from inference_container.protocol import JsonObjectFormat, JsonSchemaFormat, ResponseFormat, SamplingRequest, UsageInfo
from inference_container.served_models import Route, ServedModels, fingerprint, version_header

VERSION_HEADER = "x-adapter-version"

log = logging.getLogger("inference_container.requests")


class ServingContext:
    """The loaded engine, tokenizer and the names clients may ask for."""

    def __init__(self, engine: Engine, tokenizer: Any, max_model_len: int, vocab_size: int,
                 models: ServedModels, base_view: bool = False, grammars: Grammars | None = None) -> None:
        self.engine, self.tokenizer, self.max_model_len = engine, tokenizer, max_model_len
        self.vocab_size, self.models, self.grammars = vocab_size, models, grammars
        self.base_view = base_view  # the base id is answered from the merged weights' base view
        self.token_texts = TokenTexts(tokenizer)

    def route(self, name: str) -> Route:
        """How a request for `name` runs; 404 unless `name` is the base model, the adapter version or the alias."""
        return self.models.resolve(name, self.base_view)

    def sampling_params(self, request: SamplingRequest, prompt_len: int) -> SamplingParams:
        """Validate the options, the prompt length and the token limit; build the engine's parameters."""
        unsupported = request.unsupported_option()
        if unsupported is not None:
            raise APIError(400, f"'{unsupported}' is not supported by this server"
                           + (" (only best_of=1)" if unsupported == "best_of" else ""), param=unsupported)
        problem = request.logprobs_problem()
        if problem is not None:
            raise APIError(400, problem, param="top_logprobs")
        n = request.n or 1
        most = min(MAX_N, self.engine.max_batch_size)
        if n > most:
            raise APIError(400, f"'n' is {n}; this server returns at most {most} choices per request.", param="n")
        room = self.max_model_len - prompt_len
        if room < 1:
            raise APIError(400, f"This model's maximum context length is {self.max_model_len} tokens. "
                           f"However, your prompt has {prompt_len} tokens. Shorten the {request.prompt_param}.",
                           param=request.prompt_param, code="context_length_exceeded")
        asked = request.token_limit()
        if asked is not None and asked > room:
            raise APIError(400, f"This model's maximum context length is {self.max_model_len} tokens. However, "
                           f"you requested {prompt_len + asked} tokens ({prompt_len} in the prompt, {asked} for the "
                           f"completion). Reduce {request.token_limit_param()} to at most {room}, or the prompt.",
                           param=request.token_limit_param(), code="context_length_exceeded")
        max_new_tokens = asked or min(request.default_token_limit or room, room)
        temperature = 1.0 if request.temperature is None else request.temperature
        return SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature,
                              top_p=1.0 if request.top_p is None else request.top_p, seed=request.seed,
                              stop=tuple(request.stop_list()), ignore_eos=request.ignore_eos,
                              top_k=max(request.top_k or 0, 0), frequency_penalty=request.frequency_penalty or 0.0,
                              presence_penalty=request.presence_penalty or 0.0,
                              logit_bias=self._logit_bias(request.logit_bias), logprobs=request.logprob_count(), n=n,
                              grammar=self._grammar(request.response_format))

    def _grammar(self, response_format: ResponseFormat | None) -> Grammar | None:
        """The grammar a JSON `response_format` holds the reply to (None for text); 400 for an unusable schema."""
        if not isinstance(response_format, JsonObjectFormat | JsonSchemaFormat):
            return None
        if self.grammars is None:
            raise APIError(400, "'response_format' JSON output is not available on this server.",
                           param="response_format")
        schema = response_format.json_schema.schema_ if isinstance(response_format, JsonSchemaFormat) else None
        try:
            return self.grammars.json(schema)
        except GrammarError as exc:
            raise APIError(400, f"response_format: this JSON schema cannot be used: {exc}",
                           param="response_format.json_schema.schema") from None

    def _logit_bias(self, bias: dict[str, float] | None) -> tuple[tuple[int, float], ...]:
        """`logit_bias` as (token id, bias) pairs; a key that is no token id of this model is a 400 naming it."""
        pairs: list[tuple[int, float]] = []
        for key, value in (bias or {}).items():
            try:
                token = int(key)
            except ValueError:
                token = -1
            if not 0 <= token < self.vocab_size:
                raise APIError(400, f"logit_bias: {key!r} is not a token id of this model (ids are 0 to "
                               f"{self.vocab_size - 1}).", param="logit_bias")
            if not -100 <= value <= 100:
                raise APIError(400, f"logit_bias: the bias of token {token} is {value}; it must be in [-100, 100].",
                               param="logit_bias")
            pairs.append((token, float(value)))
        return tuple(pairs)


class TokenTexts:
    """A token id's text as logprobs show it (the token decoded alone, special tokens included), cached."""

    def __init__(self, tokenizer: Any) -> None:
        self._decode = lru_cache(maxsize=65536)(self._decode_one)
        self._tokenizer = tokenizer

    def _decode_one(self, token_id: int) -> str:
        return str(self._tokenizer.decode([token_id], skip_special_tokens=False))

    def text(self, token_id: int) -> str:
        """The token's text (a lone piece of a multi-byte character shows as U+FFFD, as vLLM shows it)."""
        return str(self._decode(token_id))


@dataclass
class ChoiceOutput:
    """One choice's text (whole or a delta), its end and its logprobs in the endpoint's shape."""

    index: int
    text: str
    finish: str | None = None
    logprobs: BaseModel | None = None


@dataclass
class _ChoiceState:
    """What the reply of one choice gathers: its text parts, token logprobs and end."""

    parts: list[str] = field(default_factory=list)
    tokens: list[TokenLogprob] = field(default_factory=list)
    finish: str | None = None
    completion_tokens: int = 0


class RequestStream:
    """The async side of one engine request: iterate its events; `cancel` frees its slot."""

    def __init__(self, engine: Engine, prompt_ids: list[int], params: SamplingParams, prefix: str,
                 route: Route | None = None, internal: bool = False) -> None:
        loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._engine, self.started = engine, time.monotonic()
        self._finished = False
        self.request_id = f"{prefix}-{uuid.uuid4().hex}"

        def emit(event: Event) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (shutdown): nobody is listening
                loop.call_soon_threadsafe(self._queue.put_nowait, event)

        route = route or Route(base_model=False)
        self.request = GenerationRequest(self.request_id, prompt_ids, params, emit, internal=internal,
                                         base_model=route.base_model, adapter_version=route.pinned_version)
        try:
            engine.submit(self.request)
        except QueueFullError:
            raise APIError(429, "The server is busy: its request queue is full. Retry shortly.",
                           code="queue_full", headers={"Retry-After": "1"}) from None

    async def first_event(self, raw: Request | None = None) -> Admitted | Finished:
        """Wait until the request runs (Admitted, naming its weights) or ends without running (Finished)."""
        watcher = asyncio.create_task(self._cancel_on_disconnect(raw)) if raw is not None else None
        try:
            event = await self._queue.get()
        finally:
            if watcher is not None:
                watcher.cancel()
        assert not isinstance(event, TextDelta), "text comes only after the request was admitted"
        if isinstance(event, Finished):
            self._finished = True
            self._log(event)
        return event

    async def events(self, raw: Request | None = None, choices: int = 1) -> AsyncIterator[TextDelta | Finished]:
        """Yield text and ends (after `first_event`) until each of the `choices` has ended; with `raw`, a client
        that disconnects cancels the request."""
        async for batch in self.event_batches(raw, choices):
            for event in batch:
                yield event

    async def event_batches(self, raw: Request | None = None, choices: int = 1
                            ) -> AsyncIterator[list[TextDelta | Finished]]:
        """As `events`, but each time every event that has arrived: a stream that fell behind the engine catches
        up in one write instead of one per token."""
        watcher = asyncio.create_task(self._cancel_on_disconnect(raw)) if raw is not None else None
        ended = 0
        try:
            while True:
                arrived = [await self._queue.get()]
                while not self._queue.empty():
                    arrived.append(self._queue.get_nowait())
                batch: list[TextDelta | Finished] = []
                for event in arrived:
                    if isinstance(event, Admitted):
                        continue
                    batch.append(event)
                    if isinstance(event, Finished):
                        ended += 1
                        if ended == choices:  # the last event of the request
                            self._finished = True
                            if watcher is not None:
                                watcher.cancel()
                            self._log(event)
                            yield batch
                            return
                yield batch
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _cancel_on_disconnect(self, raw: Request) -> None:
        """Wait for the client's http.disconnect (the body is already read) and cancel the request."""
        while (await raw.receive())["type"] != "http.disconnect":
            pass
        self.cancel()

    def cancel(self) -> None:
        """Tell the engine to drop this request (no-op once finished)."""
        if not self._finished and not self.request.cancelled:
            self._engine.cancel(self.request)

    def _log(self, event: Finished) -> None:
        log.info("request %s finished=%s prompt_tokens=%d output_tokens=%d latency=%.3fs", self.request_id,
                 event.reason, event.prompt_tokens, event.completion_tokens, time.monotonic() - self.started)


def sse(payload: BaseModel | str) -> str:
    """One server-sent event line."""
    data = payload if isinstance(payload, str) else json.dumps(payload.model_dump(mode="json"))
    return f"data: {data}\n\n"


class CancellingStreamingResponse(StreamingResponse):
    """A StreamingResponse that calls `on_close` however the stream ends (including client disconnect)."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", **(headers or {})})
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream, then always run `on_close`."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


RequestT = TypeVar("RequestT", bound=SamplingRequest)


class OpenAIServing(ABC, Generic[RequestT]):
    """One OpenAI endpoint: request to engine request, engine events to a whole reply or SSE chunks."""

    id_prefix: ClassVar[str]  # of the request id, as OpenAI's: "chatcmpl", "cmpl"

    def __init__(self, context: ServingContext) -> None:
        self._ctx = context

    @abstractmethod
    def _prompt_ids(self, request: RequestT) -> list[int]:
        """The prompt's token ids (APIError 400 when there is no usable prompt)."""

    @abstractmethod
    def _reply(self, request_id: str, model: str, choices: list[ChoiceOutput], usage: UsageInfo) -> BaseModel:
        """The whole, non-streamed reply."""

    @abstractmethod
    def _chunk(self, request_id: str, model: str, choice: ChoiceOutput | None,
               usage: UsageInfo | None = None) -> BaseModel:
        """One streamed chunk: one choice's delta, or with `choice` None no choice (the usage chunk)."""

    @abstractmethod
    def _logprobs(self, tokens: Sequence[TokenLogprob], offset: int) -> BaseModel:
        """Token logprobs in the endpoint's shape; `offset`: characters of this choice's text before them."""

    def _opening(self, request_id: str, model: str, index: int) -> BaseModel | None:
        """A chunk streamed for choice `index` before any text; none unless the endpoint needs one."""
        return None

    async def create(self, request: RequestT, raw: Request) -> Response:
        """Answer one request; its reply (every chunk of a stream) names the adapter version that produced it."""
        route = self._ctx.route(request.model)
        prompt_ids = self._prompt_ids(request)
        params = self._ctx.sampling_params(request, len(prompt_ids))
        stream = RequestStream(self._ctx.engine, prompt_ids, params, self.id_prefix, route)
        first = await stream.first_event(raw)  # a stream's headers wait for this: they name the version
        if isinstance(first, Finished):
            return self._ended_before_running(first, request.model)
        version = first.adapter_version
        headers = {VERSION_HEADER: version_header(version)}
        if request.stream:
            include_usage = bool(request.stream_options and request.stream_options.include_usage)
            chunks = self._chunks(stream, request.model, include_usage, fingerprint(version), params)
            return CancellingStreamingResponse(chunks, on_close=stream.cancel, headers=headers)
        return await self._whole(stream, request.model, raw, fingerprint(version), headers, params)

    def _ended_before_running(self, event: Finished, model: str) -> Response:
        if event.reason == "model_gone":  # it named a version that was swapped out while it waited
            raise APIError(404, self._ctx.models.not_found(model), param="model", code="model_not_found")
        if event.reason == "error":
            raise APIError(500, "Generation failed; see the server log.")
        return Response(status_code=499)  # client went away

    async def _whole(self, stream: RequestStream, model: str, raw: Request, system_fingerprint: str,
                     headers: dict[str, str], params: SamplingParams) -> Response:
        choices = [_ChoiceState() for _ in range(params.n)]
        prompt_tokens, ended = 0, 0
        async for event in stream.events(raw, choices=params.n):
            state = choices[event.index]
            state.parts.append(event.text)
            state.tokens.extend(event.logprobs)
            if isinstance(event, TextDelta):
                continue
            if event.reason == "error":
                raise APIError(500, "Generation failed; see the server log.")
            if event.reason == "abort":
                break
            state.finish, state.completion_tokens = event.reason, event.completion_tokens
            prompt_tokens, ended = event.prompt_tokens, ended + 1
            if ended < params.n:
                continue
            outputs = [ChoiceOutput(i, "".join(c.parts), c.finish,
                                    None if params.logprobs is None else self._logprobs(c.tokens, 0))
                       for i, c in enumerate(choices)]
            usage = _usage(prompt_tokens, sum(c.completion_tokens for c in choices))
            reply = self._reply(stream.request_id, model, outputs, usage)
            return JSONResponse(_stamped(reply, system_fingerprint), headers=headers)
        return Response(status_code=499)  # client went away

    async def _chunks(self, stream: RequestStream, model: str, include_usage: bool,
                      system_fingerprint: str, params: SamplingParams) -> AsyncIterator[str]:
        for index in range(params.n):
            opening = self._opening(stream.request_id, model, index)
            if opening is not None:
                yield _sse_stamped(opening, system_fingerprint)
        offsets = [0] * params.n  # characters of each choice's token texts streamed so far (text_offset)
        completion_tokens, prompt_tokens = 0, 0
        plain = TextChunks(lambda index, text: _sse_stamped(
            self._chunk(stream.request_id, model, ChoiceOutput(index, text)), system_fingerprint))
        async for batch in stream.event_batches(choices=params.n):
            chunks = []
            for event in batch:
                logprobs = None
                if params.logprobs is not None:
                    logprobs = self._logprobs(event.logprobs, offsets[event.index])
                    offsets[event.index] += sum(len(self._ctx.token_texts.text(t.token_id)) for t in event.logprobs)
                finish = event.reason if isinstance(event, Finished) else None
                if logprobs is None and finish is None:  # most chunks: only their text differs
                    chunks.append(plain.line(event.index, event.text))
                    continue
                choice = ChoiceOutput(event.index, event.text, finish, logprobs)
                chunks.append(_sse_stamped(self._chunk(stream.request_id, model, choice), system_fingerprint))
                if isinstance(event, Finished):
                    completion_tokens += event.completion_tokens
                    prompt_tokens = event.prompt_tokens
            yield "".join(chunks)  # one write for all that arrived
        if include_usage:
            yield _sse_stamped(self._chunk(stream.request_id, model, None,
                                           usage=_usage(prompt_tokens, completion_tokens)), system_fingerprint)
        yield sse("[DONE]")


class TextChunks:
    """SSE lines of one stream's plain text chunks (no logprobs, no finish): the chunk is serialized once per choice
    with a placeholder for its text, and each line splices the JSON string of its text into that (the id, model,
    `created` and fingerprint are the stream's own and never change)."""

    _HOLE = "\x00text\x00"

    def __init__(self, line: Callable[[int, str], str]) -> None:
        self._line = line  # the SSE line of choice `index` with this text, serialized in full
        self._parts: dict[int, tuple[str, str]] = {}

    def line(self, index: int, text: str) -> str:
        """The SSE line of a text chunk of choice `index`."""
        parts = self._parts.get(index)
        if parts is None:
            head, hole, tail = self._line(index, self._HOLE).partition(json.dumps(self._HOLE))
            assert hole, "the placeholder must appear in the serialized chunk"
            parts = self._parts[index] = (head, tail)
        return parts[0] + json.dumps(text) + parts[1]


def _stamped(reply: BaseModel, system_fingerprint: str) -> dict[str, Any]:
    return {**reply.model_dump(mode="json"), "system_fingerprint": system_fingerprint}


def _sse_stamped(chunk: BaseModel, system_fingerprint: str) -> str:
    return f"data: {json.dumps(_stamped(chunk, system_fingerprint))}\n\n"


def _usage(prompt_tokens: int, completion_tokens: int) -> UsageInfo:
    """The prompt counted once, the completion tokens of all choices summed (as OpenAI counts `n` > 1)."""
    return UsageInfo(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                     total_tokens=prompt_tokens + completion_tokens)
