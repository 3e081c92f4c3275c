"""Values passed between the HTTP side and the engine thread."""

from collections.abc import Callable
from dataclasses import dataclass, field

from inference_container.engine.grammar import Grammar

MAX_N = 8  # the most choices (`n`) one request may ask for


@dataclass(frozen=True)
class SamplingParams:
    """How one request picks tokens; temperature 0 means greedy.

    Penalties and the bias follow OpenAI: a token's logit loses `count * frequency_penalty + (count > 0) *
    presence_penalty`, `count` being how often this choice has generated it so far, and gains its
    `logit_bias`. `logprobs` None returns none; k >= 0 returns the chosen token's and the k most likely ones'.
    A choice with a `grammar` ends ("stop") once the grammar is complete, `ignore_eos` or not.
    """

    max_new_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False
    top_k: int = 0  # 0: no top-k cut
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    logit_bias: tuple[tuple[int, float], ...] = ()
    logprobs: int | None = None
    n: int = 1
    grammar: Grammar | None = None  # response_format: each choice's text is held to it


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token with its log-probability and the most likely alternatives (ids, best first)."""

    token_id: int
    logprob: float
    top: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class TextDelta:
    """New output text of one choice of a request, with the logprobs of the tokens it came from (if asked)."""

    text: str
    index: int = 0
    logprobs: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True)
class Finished:
    """The last event of one choice: why it ended and its token counts."""

    reason: str  # "stop", "length", "abort", "error", or "model_gone" (its pinned adapter version was swapped out)
    prompt_tokens: int
    completion_tokens: int
    text: str = ""  # text released at the end (held back while a stop string could still match)
    index: int = 0
    logprobs: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True)
class Admitted:
    """The first event of a request that runs: the adapter version whose weights it runs on (None: the base)."""

    adapter_version: str | None


Event = Admitted | TextDelta | Finished


@dataclass
class GenerationRequest:
    """A prompt, its sampling parameters, and where the engine sends events (called from its thread).

    A request with `params.n` > 1 ends with one `Finished` per choice once it was admitted (before that, with
    one `Finished` of index 0).
    """

    request_id: str
    prompt_ids: list[int]
    params: SamplingParams
    emit: Callable[[Event], None]
    cancelled: bool = field(default=False)
    internal: bool = False  # the start-up warm-up: kept out of the request metrics
    base_model: bool = False  # run on the base model's weights rather than the merged fine-tune
    adapter_version: str | None = None  # run only on this adapter version (None: whichever serves when admitted)
