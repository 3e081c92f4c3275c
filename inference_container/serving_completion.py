"""POST /v1/completions: a raw prompt in, text out; streamed or whole."""

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from inference_container.engine import Finished, TextDelta
from inference_container.errors import APIError
from inference_container.protocol import CompletionChoice, CompletionRequest, CompletionResponse, UsageInfo
from inference_container.serving_common import CancellingStreamingResponse, RequestStream, ServingContext, sse


class OpenAIServingCompletion:
    """Turns completion requests into engine requests and engine events into OpenAI replies."""

    def __init__(self, context: ServingContext) -> None:
        self._ctx = context

    def _prompt_ids(self, request: CompletionRequest) -> list[int]:
        prompt = request.prompt
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], int):
            ids = [int(t) for t in prompt]
            if not all(0 <= t < self._ctx.vocab_size for t in ids):
                raise APIError(400, f"Token ids must be in [0, {self._ctx.vocab_size}).", param="prompt")
            return ids
        text = prompt[0] if isinstance(prompt, list) else prompt
        ids = list(self._ctx.tokenizer(str(text))["input_ids"])
        if not ids:
            raise APIError(400, "The prompt is empty.", param="prompt")
        return ids

    async def create(self, request: CompletionRequest, raw: Request) -> Response:
        """Answer one completion request."""
        self._ctx.check_model(request.model)
        prompt_ids = self._prompt_ids(request)
        params = self._ctx.sampling_params(request, request.token_limit(), len(prompt_ids))
        stream = RequestStream(self._ctx.engine, prompt_ids, params, "cmpl")
        if request.stream:
            include_usage = bool(request.stream_options and request.stream_options.include_usage)
            chunks = self._chunks(stream, request.model, include_usage)
            return CancellingStreamingResponse(chunks, on_close=stream.cancel)
        return await self._whole(stream, request.model, raw)

    async def _whole(self, stream: RequestStream, model: str, raw: Request) -> Response:
        parts: list[str] = []
        async for event in stream.events(raw):
            if isinstance(event, TextDelta):
                parts.append(event.text)
                continue
            assert isinstance(event, Finished)
            if event.reason == "error":
                raise APIError(500, "Generation failed; see the server log.")
            if event.reason == "abort":
                break
            parts.append(event.text)
            usage = UsageInfo(prompt_tokens=event.prompt_tokens, completion_tokens=event.completion_tokens,
                              total_tokens=event.prompt_tokens + event.completion_tokens)
            choice = CompletionChoice(text="".join(parts), finish_reason=event.reason)
            reply = CompletionResponse(id=stream.request_id, model=model, choices=[choice], usage=usage)
            return JSONResponse(reply.model_dump(mode="json"))
        return Response(status_code=499)  # client went away

    async def _chunks(self, stream: RequestStream, model: str, include_usage: bool) -> AsyncIterator[str]:
        def chunk(text: str, finish: str | None = None) -> CompletionResponse:
            choice = CompletionChoice(text=text, finish_reason=finish)
            return CompletionResponse(id=stream.request_id, model=model, choices=[choice])

        async for event in stream.events():
            if isinstance(event, TextDelta):
                yield sse(chunk(event.text))
                continue
            assert isinstance(event, Finished)
            yield sse(chunk(event.text, event.reason))
            if include_usage:
                usage = UsageInfo(prompt_tokens=event.prompt_tokens, completion_tokens=event.completion_tokens,
                                  total_tokens=event.prompt_tokens + event.completion_tokens)
                yield sse(CompletionResponse(id=stream.request_id, model=model, choices=[], usage=usage))
        yield sse("[DONE]")
