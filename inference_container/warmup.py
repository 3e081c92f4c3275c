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
    for base in [False, True] if base_view else [False]:
        if _generate_once(engine, prompt, base) != "length":
            raise RuntimeError(f"warm-up generation failed ({'base' if base else 'served'} weights)")


def _generate_once(engine: Engine, prompt: list[int], base: bool) -> str | None:
    """Run one 4-token greedy request and wait for it; its finish reason, or None when it timed out."""
    done = threading.Event()
    outcome: list[Finished] = []

    def emit(event: Event) -> None:
        if isinstance(event, Finished):
            outcome.append(event)
            done.set()

    params = SamplingParams(max_new_tokens=4, temperature=0.0, ignore_eos=True)
    engine.submit(GenerationRequest("warmup", prompt, params, emit, internal=True, base_model=base))
    return outcome[0].reason if done.wait(WARMUP_TIMEOUT_SECONDS) else None
