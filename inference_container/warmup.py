"""Warm-up: one short generation through the engine before /ready says 200."""

import threading
from typing import Any

from inference_container.engine import Engine, Finished, GenerationRequest, SamplingParams
from inference_container.engine.types import Event

WARMUP_TIMEOUT_SECONDS = 600.0


def warm_up(engine: Engine, tokenizer: Any) -> None:
    """Generate a few tokens (prefill + decode paths) and wait for them; raise if that fails."""
    done = threading.Event()
    outcome: list[Finished] = []

    def emit(event: Event) -> None:
        if isinstance(event, Finished):
            outcome.append(event)
            done.set()

    prompt = list(tokenizer("Hello")["input_ids"]) or [0]
    params = SamplingParams(max_new_tokens=4, temperature=0.0, ignore_eos=True)
    engine.submit(GenerationRequest("warmup", prompt, params, emit, internal=True))
    if not done.wait(WARMUP_TIMEOUT_SECONDS) or outcome[0].reason == "error":
        raise RuntimeError("warm-up generation failed")
