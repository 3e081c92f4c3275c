"""Values passed between the HTTP side and the engine thread."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SamplingParams:
    """How one request picks tokens; temperature 0 means greedy."""

    max_new_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False


@dataclass(frozen=True)
class TextDelta:
    """New output text of a request."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The last event of a request: why it ended and its token counts."""

    reason: str  # "stop", "length", "abort", "error", or "model_gone" (its pinned adapter version was swapped out)
    prompt_tokens: int
    completion_tokens: int
    text: str = ""  # text released at the end (held back while a stop string could still match)


@dataclass(frozen=True)
class Admitted:
    """The first event of a request that runs: the adapter version whose weights it runs on (None: the base)."""

    adapter_version: str | None


Event = Admitted | TextDelta | Finished


@dataclass
class GenerationRequest:
    """A prompt, its sampling parameters, and where the engine sends events (called from its thread)."""

    request_id: str
    prompt_ids: list[int]
    params: SamplingParams
    emit: Callable[[Event], None]
    cancelled: bool = field(default=False)
    internal: bool = False  # the start-up warm-up: kept out of the request metrics
    base_model: bool = False  # run on the base model's weights rather than the merged fine-tune
    adapter_version: str | None = None  # run only on this adapter version (None: whichever serves when admitted)
