"""Thin HTTP routes: validate, hand to the serving classes, answer."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from inference_container.auth import require_api_key
from inference_container.errors import APIError, create_error_response
from inference_container.protocol import ChatCompletionRequest, CompletionRequest, ModelList
from inference_container.serving_chat import OpenAIServingChat
from inference_container.serving_completion import OpenAIServingCompletion

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter()
v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])


def _serving(request: Request) -> tuple[OpenAIServingChat, OpenAIServingCompletion]:
    serving = request.app.state.serving
    if serving is None:
        raise APIError(503, "The model is still loading; retry when /ready answers 200.",
                       headers={"Retry-After": "5"})
    return serving


Serving = Annotated[tuple[OpenAIServingChat, OpenAIServingCompletion], Depends(_serving)]


@router.get("/health")
async def health(request: Request) -> dict[str, str | None]:
    """Liveness: the process answers (with the revision it belongs to)."""
    return {"status": "ok", "revision": request.app.state.settings.container_app_revision}


@router.get("/ready")
async def ready(request: Request) -> Response:
    """Readiness: 200 once the model is loaded and warmed up (with the revision it belongs to)."""
    if request.app.state.serving is None:
        error = request.app.state.load_error
        return create_error_response(503, f"Model failed to load: {error}" if error else "Model is loading.")
    return JSONResponse({"status": "ready", "revision": request.app.state.settings.container_app_revision})


@router.get("/metrics")
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


@v1.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, raw: Request, serving: Serving) -> Response:
    """OpenAI chat completions."""
    return await serving[0].create(body, raw)


@v1.post("/completions")
async def completions(body: CompletionRequest, raw: Request, serving: Serving) -> Response:
    """OpenAI text completions."""
    return await serving[1].create(body, raw)
