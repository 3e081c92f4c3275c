"""What chat and completions share: model names, limits, the engine bridge and SSE plumbing."""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from inference_container.engine import Engine, Finished, GenerationRequest, QueueFullError, SamplingParams
from inference_container.engine.types import Event
from inference_container.errors import APIError
from inference_container.protocol import SamplingRequest

log = logging.getLogger("inference_container.requests")


class ServingContext:
    """The loaded engine, tokenizer and the names clients may ask for."""

    def __init__(self, engine: Engine, tokenizer: Any, max_model_len: int, vocab_size: int,
                 model_names: list[str]) -> None:
        self.engine, self.tokenizer, self.max_model_len = engine, tokenizer, max_model_len
        self.vocab_size, self.model_names = vocab_size, model_names

    def check_model(self, name: str) -> None:
        """404 unless `name` is the base model or the adapter."""
        if name not in self.model_names:
            raise APIError(404, f"The model '{name}' does not exist; available: {', '.join(self.model_names)}",
                           param="model", code="model_not_found")

    def sampling_params(self, request: SamplingRequest, limit: int | None, prompt_len: int) -> SamplingParams:
        """Validate the options and the prompt length; build the engine's parameters."""
        unsupported = request.unsupported_option()
        if unsupported is not None:
            raise APIError(400, f"'{unsupported}' is not supported by this server"
                           + (" (only n=1)" if unsupported == "n" else ""), param=unsupported)
        room = self.max_model_len - prompt_len
        if room < 1:
            raise APIError(400, f"This model's maximum context length is {self.max_model_len} tokens. "
                           f"However, your prompt has {prompt_len} tokens. Shorten the prompt.",
                           param="messages", code="context_length_exceeded")
        temperature = 1.0 if request.temperature is None else request.temperature
        return SamplingParams(max_new_tokens=min(limit or room, room), temperature=temperature,
                              top_p=1.0 if request.top_p is None else request.top_p, seed=request.seed,
                              stop=tuple(request.stop_list()), ignore_eos=request.ignore_eos)


class RequestStream:
    """The async side of one engine request: iterate its events; `cancel` frees its slot."""

    def __init__(self, engine: Engine, prompt_ids: list[int], params: SamplingParams, prefix: str) -> None:
        loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._engine, self.started = engine, time.monotonic()
        self._finished = False
        self.request_id = f"{prefix}-{uuid.uuid4().hex}"

        def emit(event: Event) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (shutdown): nobody is listening
                loop.call_soon_threadsafe(self._queue.put_nowait, event)

        self.request = GenerationRequest(self.request_id, prompt_ids, params, emit)
        try:
            engine.submit(self.request)
        except QueueFullError:
            raise APIError(429, "The server is busy: its request queue is full. Retry shortly.",
                           code="queue_full", headers={"Retry-After": "1"}) from None

    async def events(self, raw: Request | None = None) -> AsyncIterator[Event]:
        """Yield events until Finished; with `raw`, a client that disconnects meanwhile cancels the request."""
        watcher = asyncio.create_task(self._cancel_on_disconnect(raw)) if raw is not None else None
        try:
            while True:
                event = await self._queue.get()
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

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream, then always run `on_close`."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()
