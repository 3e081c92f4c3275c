"""Application factory: routes, error handlers, and a lifespan that loads the model in the background."""

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from inference_container import loading
from inference_container.api_router import STATIC_DIR, router, v1
from inference_container.engine import Engine
from inference_container.errors import install_error_handlers
from inference_container.metrics import ServerMetrics
from inference_container.serving_chat import OpenAIServingChat
from inference_container.serving_common import ServingContext
from inference_container.serving_completion import OpenAIServingCompletion
from inference_container.settings import Settings
from inference_container.warmup import warm_up

log = logging.getLogger(__name__)


def _load(app: FastAPI) -> None:
    """Load, build the engine, warm up; runs in a worker thread while the server already answers."""
    settings: Settings = app.state.settings
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    timer = loading.PhaseTimer(app.state.metrics)
    loaded = loading.load(settings, app.state.metrics, timer)
    engine = Engine(loaded.model, loaded.tokenizer, app.state.metrics, settings.max_batch_size,
                    settings.max_queue_size, loaded.base_view)
    engine.start()
    app.state.engine = engine
    with timer.phase("warmup"):
        warm_up(engine, loaded.tokenizer, base_view=loaded.base_view is not None)
    names = [settings.base_model_name] + ([settings.adapter_model_name] if settings.adapter_model_name else [])
    vocab_size = int(loaded.model.get_input_embeddings().num_embeddings)
    context = ServingContext(engine, loaded.tokenizer, loaded.max_model_len, vocab_size, names,
                             base_view_name=settings.base_model_name if loaded.base_view else None)
    app.state.max_model_len = loaded.max_model_len
    app.state.serving = (OpenAIServingChat(context), OpenAIServingCompletion(context))
    log.info("ready: serving %s (startup %.2fs)", ", ".join(names), sum(timer.seconds.values()))


async def _load_in_background(app: FastAPI) -> None:
    try:
        await asyncio.to_thread(_load, app)
    except Exception as exc:
        app.state.load_error = f"{type(exc).__name__}: {exc}"
        log.exception("model loading failed; shutting down")
        os.kill(os.getpid(), signal.SIGTERM)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start loading without blocking start-up; stop the engine at shutdown."""
    task = asyncio.create_task(_load_in_background(app))
    yield
    if app.state.engine is not None:
        app.state.engine.stop()
    if not task.done():
        log.info("shutting down while the model was still loading")


def create_app(settings: Settings) -> FastAPI:
    """A FastAPI app serving `settings`' model; its state lives in `app.state`."""
    app = FastAPI(title="inference_container", lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = ServerMetrics()
    app.state.serving, app.state.engine, app.state.load_error = None, None, None
    app.state.max_model_len = None
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(v1)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
