"""POST /v1/responses, text only: the request runs as a chat request (chat template, options, routing), and its
engine events become a Response, whole or as the Responses API's stream of events."""

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from inference_container.engine import Finished, SamplingParams
from inference_container.errors import APIError
from inference_container.protocol import ChatMessage, JsonSchemaFormat, ResponseFormat
from inference_container.responses_protocol import (
    UNSUPPORTED,
    ContentPartEvent,
    IncompleteDetails,
    OutputItemEvent,
    OutputMessage,
    OutputText,
    ResponseError,
    ResponseEvent,
    ResponseObject,
    ResponsesChatRequest,
    ResponsesRequest,
    ResponseStreamEvent,
    ResponseUsage,
    TextConfig,
    TextDeltaEvent,
    TextDoneEvent,
    TextFormatConfig,
)
from inference_container.served_models import version_header
from inference_container.serving_chat import OpenAIServingChat
from inference_container.serving_common import (
    VERSION_HEADER,
    CancellingStreamingResponse,
    RequestStream,
    ServingContext,
)

# Chat's names for fields its checks may fault (template, grammar), and the Responses request's names for them.
_PARAMS = {"messages": "input", "response_format": "text.format",
           "response_format.json_schema.schema": "text.format.schema"}
_FAILED = "Generation failed; see the server log."


class OpenAIServingResponses:
    """Turns Responses requests into chat requests for the engine, and engine events into Responses."""

    def __init__(self, context: ServingContext) -> None:
        self._ctx = context
        self._chat = OpenAIServingChat(context)  # its prompt building and its answers to runs that never started

    async def create(self, body: ResponsesRequest, raw: Request) -> Response:
        """Answer one request; the reply (a stream's headers) names the adapter version that produced it."""
        route = self._ctx.route(body.model)
        request = chat_request(body)
        with _named_as_responses():
            prompt_ids = self._chat._prompt_ids(request)
            params = self._ctx.sampling_params(request, len(prompt_ids))
        stream = RequestStream(self._ctx.engine, prompt_ids, params, "resp", route)
        first = await stream.first_event(raw)  # a stream's headers wait for this: they name the version
        if isinstance(first, Finished):
            return self._chat._ended_before_running(first, body.model)
        headers = {VERSION_HEADER: version_header(first.adapter_version)}
        shell = _shell(body, stream.request_id, params)
        if body.stream:
            return CancellingStreamingResponse(_sse(_events(stream, shell)), on_close=stream.cancel, headers=headers)
        return await _whole(_events(stream, shell, raw), headers)


def chat_request(body: ResponsesRequest) -> ResponsesChatRequest:
    """The chat request `body` runs as: `instructions` as a system message, then the input; 400 naming an option
    this server does not implement."""
    unsupported = body.unsupported_option()
    if unsupported is not None:
        instead = UNSUPPORTED[unsupported]
        raise APIError(400, f"'{unsupported}' is not supported by /v1/responses"
                       + (f"; use '{instead}'." if instead else "."), param=unsupported)
    messages = [ChatMessage(role="system", content=body.instructions)] if body.instructions else []
    if isinstance(body.input, str):
        messages.append(ChatMessage(role="user", content=body.input))
    else:
        messages.extend(ChatMessage(role=item.role, content=item.text()) for item in body.input)
    return ResponsesChatRequest(model=body.model, messages=messages, max_completion_tokens=body.max_output_tokens,
                                temperature=body.temperature, top_p=body.top_p, seed=body.seed,
                                ignore_eos=body.ignore_eos, user=body.user,
                                response_format=_chat_format(body.text.format) if body.text else None)


def _chat_format(text_format: TextFormatConfig) -> ResponseFormat:
    """`text.format` as chat's `response_format` (whose json_schema nests what Responses has flat)."""
    if text_format.type == "json_schema":
        return JsonSchemaFormat(type="json_schema", json_schema=text_format)
    return text_format


@contextmanager
def _named_as_responses() -> Iterator[None]:
    """Let an APIError name the Responses request's field where chat's differs."""
    try:
        yield
    except APIError as exc:
        exc.param = _PARAMS.get(exc.param, exc.param) if exc.param else exc.param
        raise


def _shell(body: ResponsesRequest, request_id: str, params: SamplingParams) -> ResponseObject:
    """The response before any output: what the request set, with the sampling values in effect."""
    return ResponseObject(id=request_id.replace("-", "_", 1), created_at=int(time.time()), status="in_progress",
                          instructions=body.instructions, max_output_tokens=body.max_output_tokens,
                          model=body.model, temperature=params.temperature, top_p=params.top_p,
                          text=body.text or TextConfig(), user=body.user, metadata=body.metadata or {})


async def _events(stream: RequestStream, shell: ResponseObject,
                  raw: Request | None = None) -> AsyncIterator[ResponseStreamEvent]:
    """The events of one response (numbered by `_sse`): the last is its end, `response.completed`,
    `response.incomplete` (the token limit) or `response.failed`, unless the run was cancelled before."""
    item_id = "msg_" + shell.id.removeprefix("resp_")
    yield ResponseEvent(type="response.created", response=shell)
    yield ResponseEvent(type="response.in_progress", response=shell)
    yield OutputItemEvent(type="response.output_item.added",
                          item=OutputMessage(id=item_id, status="in_progress", content=[]))
    yield ContentPartEvent(type="response.content_part.added", item_id=item_id, part=OutputText(text=""))
    parts: list[str] = []
    end: Finished | None = None
    async for event in stream.events(raw):
        if event.text:
            parts.append(event.text)
            yield TextDeltaEvent(item_id=item_id, delta=event.text)
        if isinstance(event, Finished):
            end = event
    if end is None or end.reason == "abort":  # cancelled: the client went away
        return
    if end.reason == "error":
        failed = shell.model_copy(update={"status": "failed", "error": ResponseError(message=_FAILED)})
        yield ResponseEvent(type="response.failed", response=failed)
        return
    part = OutputText(text="".join(parts))
    cut = end.reason == "length"
    message = OutputMessage(id=item_id, status="incomplete" if cut else "completed", content=[part])
    yield TextDoneEvent(item_id=item_id, text=part.text)
    yield ContentPartEvent(type="response.content_part.done", item_id=item_id, part=part)
    yield OutputItemEvent(type="response.output_item.done", item=message)
    usage = ResponseUsage(input_tokens=end.prompt_tokens, output_tokens=end.completion_tokens,
                          total_tokens=end.prompt_tokens + end.completion_tokens)
    final = shell.model_copy(update={"status": message.status, "output": [message], "usage": usage,
                                     "incomplete_details": IncompleteDetails() if cut else None})
    yield ResponseEvent(type="response.incomplete" if cut else "response.completed", response=final)


async def _whole(events: AsyncIterator[ResponseStreamEvent], headers: dict[str, str]) -> Response:
    """The response the events end with, as JSON."""
    response = None
    async for event in events:
        response = event.response if isinstance(event, ResponseEvent) else None
    if response is None or response.status == "in_progress":
        return Response(status_code=499)  # client went away
    if response.status == "failed":
        raise APIError(500, _FAILED)
    return JSONResponse(response.model_dump(mode="json"), headers=headers)


async def _sse(events: AsyncIterator[ResponseStreamEvent]) -> AsyncIterator[str]:
    """Each event as `event: <type>` and `data: <JSON>`, numbered from 0 in the order sent."""
    number = 0
    async for event in events:
        event.sequence_number, number = number, number + 1
        yield f"event: {event.type}\ndata: {event.model_dump_json()}\n\n"
