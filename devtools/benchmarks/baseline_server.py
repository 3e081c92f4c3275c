"""Baseline: a server built the way the AI Toolkit seed's app serves, for a fair side-by-side benchmark.

One `model.generate` call on its own thread per request, tokens handed back through a
`TextIteratorStreamer`, the LoRA adapter applied as an unmerged `PeftModel`, streamed as OpenAI-style SSE.
No batching across requests. Run: `python -m devtools.benchmarks.baseline_server --model DIR [--adapter DIR]`.
"""

import argparse
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from threading import Thread
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from peft import PeftModel
from pydantic import BaseModel
from starlette.concurrency import iterate_in_threadpool
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase, TextIteratorStreamer


class ChatMessage(BaseModel):
    """One chat turn."""

    role: str
    content: str


class StreamOptions(BaseModel):
    """OpenAI `stream_options`."""

    include_usage: bool = False


class ChatRequest(BaseModel):
    """The subset of the OpenAI chat request the benchmark sends."""

    model: str | None = None
    messages: list[ChatMessage]
    max_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    stream: bool = False
    stream_options: StreamOptions | None = None
    ignore_eos: bool = False


class Generator:
    """The model, tokenizer and one-thread-per-request generation."""

    def __init__(self, model: Any, tokenizer: PreTrainedTokenizerBase, name: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name

    def start(self, request: ChatRequest) -> tuple[TextIteratorStreamer, Thread, dict[str, int]]:
        """Start `generate` on a new thread; return the streamer, the thread and the usage it will fill."""
        messages = [m.model_dump() for m in request.messages]
        encoded: Any = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        input_ids = encoded["input_ids"].to(self.model.device)
        attention_mask = encoded["attention_mask"].to(self.model.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        usage = {"prompt_tokens": int(input_ids.shape[1]), "completion_tokens": 0}
        kwargs: dict[str, Any] = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "streamer": streamer,
            "max_new_tokens": request.max_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if request.ignore_eos:
            kwargs["min_new_tokens"] = request.max_tokens
        if request.temperature > 0:
            kwargs.update(do_sample=True, temperature=request.temperature, top_p=request.top_p)
        else:
            kwargs.update(do_sample=False)

        def run() -> None:
            with torch.inference_mode():
                output = self.model.generate(**kwargs)
            usage["completion_tokens"] = int(output.shape[1] - input_ids.shape[1])

        thread = Thread(target=run, daemon=True)
        thread.start()
        return streamer, thread, usage


def _chunk(cid: str, model: str, delta: dict[str, str], finish: str | None = None) -> str:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


async def _sse(gen: Generator, request: ChatRequest) -> AsyncIterator[str]:
    streamer, thread, usage = gen.start(request)
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    yield _chunk(cid, gen.name, {"role": "assistant", "content": ""})
    text_iter: Iterator[str] = iter(streamer)
    async for text in iterate_in_threadpool(text_iter):
        if text:
            yield _chunk(cid, gen.name, {"content": text})
    thread.join()
    yield _chunk(cid, gen.name, {}, finish="length")
    if request.stream_options and request.stream_options.include_usage:
        total = usage["prompt_tokens"] + usage["completion_tokens"]
        body = {"id": cid, "object": "chat.completion.chunk", "model": gen.name, "choices": [],
                "usage": {**usage, "total_tokens": total}}
        yield f"data: {json.dumps(body)}\n\n"
    yield "data: [DONE]\n\n"


def create_app(gen: Generator) -> FastAPI:
    """The baseline's FastAPI app: health, readiness and streaming chat completions."""
    app = FastAPI(title="baseline (seed-style) server")

    @app.get("/health")
    @app.get("/ready")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: ChatRequest) -> StreamingResponse | JSONResponse:
        if request.stream:
            return StreamingResponse(_sse(gen, request), media_type="text/event-stream")
        streamer, thread, usage = gen.start(request)
        text = "".join([t async for t in iterate_in_threadpool(iter(streamer))])
        thread.join()
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "model": gen.name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "length"}],
            "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
        })

    return app


def load(model_dir: str, adapter_dir: str | None, device: str) -> Generator:
    """Load the base model (bf16 on GPU, fp32 on CPU) and wrap it in the unmerged adapter."""
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    model = model.to(device)
    if adapter_dir:
        model = PeftModel.from_pretrained(model, adapter_dir)
    model.eval()
    return Generator(model, tokenizer, name=model_dir.rstrip("/").split("/")[-1])


def main() -> None:
    """Parse arguments, load the model and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapter")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7861)
    args = parser.parse_args()
    app = create_app(load(args.model, args.adapter, args.device))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
