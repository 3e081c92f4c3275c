"""The generation engine: one thread running a step loop over a padded batch with a shared KV cache."""

from inference_container.engine.scheduler import Engine, QueueFullError
from inference_container.engine.types import Finished, GenerationRequest, SamplingParams, TextDelta

__all__ = ["Engine", "Finished", "GenerationRequest", "QueueFullError", "SamplingParams", "TextDelta"]
