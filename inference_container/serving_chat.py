"""POST /v1/chat/completions: chat template, then the engine; streamed or whole."""

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from jinja2 import TemplateError

from inference_container.engine import Finished, TextDelta
from inference_container.errors import APIError
from inference_container.protocol import (
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    DeltaMessage,
    ResponseMessage,
    UsageInfo,
)
from inference_container.serving_common import CancellingStreamingResponse, RequestStream, ServingContext, sse


class OpenAIServingChat:
    """Turns chat requests into engine requests and engine events into OpenAI replies."""

    def __init__(self, context: ServingContext) -> None:
        self._ctx = context

    def _prompt_ids(self, request: ChatCompletionRequest) -> list[int]:
        messages = [{"role": m.role, "content": m.text()} for m in request.messages]
        try:
            text = self._ctx.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except TemplateError as exc:
            raise APIError(400, f"The chat template rejected these messages: {exc}", param="messages") from None
        except ValueError as exc:  # transformers: the tokenizer has no chat template
            raise APIError(400, f"This model cannot format chat messages ({exc}); use /v1/completions.",
                           param="messages") from None
        return list(self._ctx.tokenizer(text, add_special_tokens=False)["input_ids"])

    async def create(self, request: ChatCompletionRequest, raw: Request) -> Response:
        """Answer one chat completion request."""
        self._ctx.check_model(request.model)
        prompt_ids = self._prompt_ids(request)
        params = self._ctx.sampling_params(request, request.token_limit(), len(prompt_ids))
        stream = RequestStream(self._ctx.engine, prompt_ids, params, "chatcmpl")
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
            choice = ChatChoice(message=ResponseMessage(content="".join(parts)), finish_reason=event.reason)
            reply = ChatCompletionResponse(id=stream.request_id, model=model, choices=[choice], usage=usage)
            return JSONResponse(reply.model_dump(mode="json"))
        return Response(status_code=499)  # client went away

    async def _chunks(self, stream: RequestStream, model: str, include_usage: bool) -> AsyncIterator[str]:
        def chunk(delta: DeltaMessage, finish: str | None = None) -> ChatCompletionChunk:
            choice = ChatChunkChoice(delta=delta, finish_reason=finish)
            return ChatCompletionChunk(id=stream.request_id, model=model, choices=[choice])

        yield sse(chunk(DeltaMessage(role="assistant", content="")))
        async for event in stream.events():
            if isinstance(event, TextDelta):
                yield sse(chunk(DeltaMessage(content=event.text)))
                continue
            assert isinstance(event, Finished)
            yield sse(chunk(DeltaMessage(content=event.text), event.reason))
            if include_usage:
                usage = UsageInfo(prompt_tokens=event.prompt_tokens, completion_tokens=event.completion_tokens,
                                  total_tokens=event.prompt_tokens + event.completion_tokens)
                yield sse(ChatCompletionChunk(id=stream.request_id, model=model, choices=[], usage=usage))
        yield sse("[DONE]")
