"""Thin HTTP routes: validate, hand to the serving classes, answer."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from inference_container.auth import require_api_key
from inference_container.errors import APIError, create_error_response
from inference_container.openapi import error, streamed_or_whole
from inference_container.openapi_requests import strict_body
from inference_container.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    CompletionRequest,
    CompletionResponse,
    ModelList,
)
from inference_container.responses_protocol import ResponsesRequest, streamed_or_whole_response
from inference_container.serving_chat import OpenAIServingChat
from inference_container.serving_completion import OpenAIServingCompletion
from inference_container.serving_responses import OpenAIServingResponses

STATIC_DIR = Path(__file__).parent / "static"

LOADING = "The model is still loading (or failed to load); retry when /ready answers 200."
GENERATION_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error("The request is invalid: bad JSON or field, an unsupported option, or the prompt and token limit "
               "do not fit the context (code context_length_exceeded); `param` names the field."),
    404: error("No served model has this id (code model_not_found): see /v1/models."),
    429: error("The request queue is full (code queue_full); retry after Retry-After seconds.", "always"),
    500: error("Generation failed inside the engine; the server log has the details."),
}

router = APIRouter()
v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)], responses={
    401: error("Missing or wrong API key (code invalid_api_key): send `Authorization: Bearer <API_KEY>`."),
    503: error(LOADING, "always"),
})


class Status(BaseModel):
    """Liveness or readiness, and the revision (deployment) this process belongs to."""

    status: str
    revision: str | None


Servings = tuple[OpenAIServingChat, OpenAIServingCompletion, OpenAIServingResponses]


def _serving(request: Request) -> Servings:
    serving = request.app.state.serving
    if serving is None:
        raise APIError(503, "The model is still loading; retry when /ready answers 200.",
                       headers={"Retry-After": "5"})
    return serving


Serving = Annotated[Servings, Depends(_serving)]


@router.get("/health")
async def health(request: Request) -> Status:
    """Liveness: the process answers (with the revision it belongs to)."""
    return Status(status="ok", revision=request.app.state.settings.container_app_revision)


@router.get("/ready", responses={200: {"model": Status, "description": "Loaded and warmed up."},
                                 503: error("Still loading, or loading failed (the message says which).")})
async def ready(request: Request) -> Response:
    """Readiness: 200 once the model is loaded and warmed up (with the revision it belongs to)."""
    if request.app.state.serving is None:
        error = request.app.state.load_error
        return create_error_response(503, f"Model failed to load: {error}" if error else "Model is loading.")
    return JSONResponse({"status": "ready", "revision": request.app.state.settings.container_app_revision})


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"description": "Prometheus text exposition format."}})
async def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/", include_in_schema=False)
async def index() -> Response:
    """The chat page."""
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        return create_error_response(404, "No chat page is installed (inference_container/static/index.html).")
    return FileResponse(page)


@v1.get("/models")
async def models(request: Request, _: Serving) -> ModelList:
    """The base model and, when served, the adapter version and its stable alias (whose parent is the base)."""
    return ModelList(data=request.app.state.models.cards())


@v1.post("/chat/completions", response_model=None, dependencies=[Depends(strict_body(ChatCompletionRequest))],
         responses={200: streamed_or_whole(ChatCompletionResponse, ChatCompletionChunk), **GENERATION_ERRORS})
async def chat_completions(body: ChatCompletionRequest, raw: Request, serving: Serving) -> Response:
    """OpenAI chat completions."""
    return await serving[0].create(body, raw)


@v1.post("/completions", response_model=None, dependencies=[Depends(strict_body(CompletionRequest))],
         responses={200: streamed_or_whole(CompletionResponse, CompletionResponse), **GENERATION_ERRORS})
async def completions(body: CompletionRequest, raw: Request, serving: Serving) -> Response:
    """OpenAI text completions."""
    return await serving[1].create(body, raw)


@v1.post("/responses", response_model=None, dependencies=[Depends(strict_body(ResponsesRequest))],
         responses={200: streamed_or_whole_response(), **GENERATION_ERRORS})
async def responses(body: ResponsesRequest, raw: Request, serving: Serving) -> Response:
    """OpenAI Responses, text only: one assistant message, whole or as the Responses stream events."""
    return await serving[2].create(body, raw)
