"""Warm-up: short generations through the engine before /ready says 200."""

import threading
from typing import Any

from inference_container.engine import Engine, Finished, GenerationRequest, SamplingParams
from inference_container.engine.types import Event

WARMUP_TIMEOUT_SECONDS = 600.0


def warm_up(engine: Engine, tokenizer: Any, base_view: bool = False) -> None:
    """Generate a few tokens (prefill + decode paths), on the base view's weights too when there is one, one
    request at a time (the smallest server has a single slot); raise if that fails."""
    prompt = list(tokenizer("Hello")["input_ids"]) or [0]
    params = SamplingParams(max_new_tokens=4, temperature=0.0, ignore_eos=True)
    for base in [False, True] if base_view else [False]:
        done = threading.Event()
        outcome: list[Finished] = []

        def emit(event: Event, outcome: list[Finished] = outcome, done: threading.Event = done) -> None:
            if isinstance(event, Finished):
                outcome.append(event)
                done.set()

        engine.submit(GenerationRequest("warmup", prompt, params, emit, internal=True, base_model=base))
        if not done.wait(WARMUP_TIMEOUT_SECONDS) or outcome[0].reason == "error":
            raise RuntimeError(f"warm-up generation failed ({'base' if base else 'served'} weights)")
