"""What chat and completions share: model names, limits, the engine bridge, SSE plumbing and the request flow."""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
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
from inference_container.engine.types import Event
from inference_container.errors import APIError
from inference_container.protocol import SamplingRequest, UsageInfo
from inference_container.served_models import Route, ServedModels, fingerprint, version_header

VERSION_HEADER = "x-adapter-version"

log = logging.getLogger("inference_container.requests")


class ServingContext:
    """The loaded engine, tokenizer and the names clients may ask for."""

    def __init__(self, engine: Engine, tokenizer: Any, max_model_len: int, vocab_size: int,
                 models: ServedModels, base_view: bool = False) -> None:
        self.engine, self.tokenizer, self.max_model_len = engine, tokenizer, max_model_len
        self.vocab_size, self.models = vocab_size, models
        self.base_view = base_view  # the base id is answered from the merged weights' base view

    def route(self, name: str) -> Route:
        """How a request for `name` runs; 404 unless `name` is the base model, the adapter version or the alias."""
        return self.models.resolve(name, self.base_view)

    def sampling_params(self, request: SamplingRequest, prompt_len: int) -> SamplingParams:
        """Validate the options, the prompt length and the token limit; build the engine's parameters."""
        unsupported = request.unsupported_option()
        if unsupported is not None:
            raise APIError(400, f"'{unsupported}' is not supported by this server"
                           + (" (only n=1)" if unsupported == "n" else ""), param=unsupported)
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
                              stop=tuple(request.stop_list()), ignore_eos=request.ignore_eos)


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

    async def events(self, raw: Request | None = None) -> AsyncIterator[TextDelta | Finished]:
        """Yield text and the end (after `first_event`); with `raw`, a client that disconnects cancels the request."""
        watcher = asyncio.create_task(self._cancel_on_disconnect(raw)) if raw is not None else None
        try:
            while True:
                event = await self._queue.get()
                if isinstance(event, Admitted):
                    continue
                if isinstance(event, Finished):
                    self._finished = True
                    if watcher is not None:
                        watcher.cancel()
                    self._log(event)
                    yield event
                    return
                yield event
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
    def _reply(self, request_id: str, model: str, text: str, finish: str, usage: UsageInfo) -> BaseModel:
        """The whole, non-streamed reply."""

    @abstractmethod
    def _chunk(self, request_id: str, model: str, text: str | None, finish: str | None = None,
               usage: UsageInfo | None = None) -> BaseModel:
        """One streamed chunk: a choice carrying `text`, or with `text` None no choice (the usage chunk)."""

    def _opening(self, request_id: str, model: str) -> BaseModel | None:
        """A chunk streamed before any text; none unless the endpoint needs one."""
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
            chunks = self._chunks(stream, request.model, include_usage, fingerprint(version))
            return CancellingStreamingResponse(chunks, on_close=stream.cancel, headers=headers)
        return await self._whole(stream, request.model, raw, fingerprint(version), headers)

    def _ended_before_running(self, event: Finished, model: str) -> Response:
        if event.reason == "model_gone":  # it named a version that was swapped out while it waited
            raise APIError(404, self._ctx.models.not_found(model), param="model", code="model_not_found")
        if event.reason == "error":
            raise APIError(500, "Generation failed; see the server log.")
        return Response(status_code=499)  # client went away

    async def _whole(self, stream: RequestStream, model: str, raw: Request, system_fingerprint: str,
                     headers: dict[str, str]) -> Response:
        parts: list[str] = []
        async for event in stream.events(raw):
            if isinstance(event, TextDelta):
                parts.append(event.text)
                continue
            if event.reason == "error":
                raise APIError(500, "Generation failed; see the server log.")
            if event.reason == "abort":
                break
            parts.append(event.text)
            reply = self._reply(stream.request_id, model, "".join(parts), event.reason, _usage(event))
            return JSONResponse(_stamped(reply, system_fingerprint), headers=headers)
        return Response(status_code=499)  # client went away

    async def _chunks(self, stream: RequestStream, model: str, include_usage: bool,
                      system_fingerprint: str) -> AsyncIterator[str]:
        opening = self._opening(stream.request_id, model)
        if opening is not None:
            yield _sse_stamped(opening, system_fingerprint)
        async for event in stream.events():
            if isinstance(event, TextDelta):
                yield _sse_stamped(self._chunk(stream.request_id, model, event.text), system_fingerprint)
                continue
            yield _sse_stamped(self._chunk(stream.request_id, model, event.text, event.reason), system_fingerprint)
            if include_usage:
                yield _sse_stamped(self._chunk(stream.request_id, model, None, usage=_usage(event)),
                                   system_fingerprint)
        yield sse("[DONE]")


def _stamped(reply: BaseModel, system_fingerprint: str) -> dict[str, Any]:
    return {**reply.model_dump(mode="json"), "system_fingerprint": system_fingerprint}


def _sse_stamped(chunk: BaseModel, system_fingerprint: str) -> str:
    return f"data: {json.dumps(_stamped(chunk, system_fingerprint))}\n\n"


def _usage(event: Finished) -> UsageInfo:
    return UsageInfo(prompt_tokens=event.prompt_tokens, completion_tokens=event.completion_tokens,
                     total_tokens=event.prompt_tokens + event.completion_tokens)
