"""Engine pieces in-process: stop strings across token boundaries, per-row sampling parameters."""

import queue

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from devtools.tiny_model import TinyModelPaths
from inference_container.engine import Engine, Finished, GenerationRequest, SamplingParams
from inference_container.engine.detokenize import StopAwareText
from inference_container.engine.sampling import make_generator, sample_rows
from inference_container.metrics import ServerMetrics


@pytest.fixture(scope="module")
def tokenizer(tiny_share: TinyModelPaths) -> object:
    """The tiny model's tokenizer."""
    return AutoTokenizer.from_pretrained(tiny_share.base_dir)


def _feed(tokenizer: object, text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    detok = StopAwareText(tokenizer, stop)
    released: list[str] = []
    for token in tokenizer(text, add_special_tokens=False)["input_ids"]:  # type: ignore[operator]
        delta, hit = detok.add(token)
        released.append(delta)
        if hit:
            return "".join(released), True
    return "".join(released) + detok.rest(), False


@pytest.mark.parametrize(("stop", "expected"), [
    (("lazy dog",), "the quick brown fox jumps over the "),
    (("k b", "zzz"), "the quic"),
    (("o",), "the quick br"),
])
def test_output_is_cut_before_the_first_stop_string(tokenizer: object, stop: tuple[str, ...],
                                                    expected: str) -> None:
    assert _feed(tokenizer, "the quick brown fox jumps over the lazy dog", stop) == (expected, True)


def test_without_a_stop_hit_all_text_is_released(tokenizer: object) -> None:
    assert _feed(tokenizer, "the quick brown fox", ("absent",)) == ("the quick brown fox", False)


def test_rows_keep_their_own_parameters() -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 50)
    params = [SamplingParams(4, temperature=0.0), SamplingParams(4, temperature=1.0, top_p=1e-6),
              SamplingParams(4, temperature=5.0, seed=7)]
    generators = [make_generator(p, torch.device("cpu")) for p in params]
    first = sample_rows(logits, params, generators)
    assert first[0] == int(logits[0].argmax())
    assert first[1] == int(logits[1].argmax())  # top_p this small keeps only the best token
    again = sample_rows(logits, params, [make_generator(p, torch.device("cpu")) for p in params])
    assert again[2] == first[2]  # the seed fixes the sampled row


class _FailsOnLongInput(torch.nn.Module):
    """The tiny model, except that a forward over more than 40 positions fails (like an out-of-memory)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.inner = model

    def forward(self, **kwargs: object) -> object:
        if kwargs["input_ids"].shape[1] > 40:  # type: ignore[attr-defined]
            raise RuntimeError("simulated out of memory")
        return self.inner(**kwargs)


def test_failed_prefill_fails_only_the_newcomer(tiny_share: TinyModelPaths, tokenizer: object) -> None:
    model = _FailsOnLongInput(AutoModelForCausalLM.from_pretrained(tiny_share.base_dir).eval())
    engine = Engine(model, tokenizer, ServerMetrics(), max_batch_size=4, max_queue_size=4)
    engine.start()
    events: dict[str, queue.Queue] = {"short": queue.Queue(), "long": queue.Queue()}
    try:
        engine.submit(GenerationRequest("short", [5, 6, 7], SamplingParams(60, 0.0, ignore_eos=True),
                                        events["short"].put))
        events["short"].get(timeout=60)  # running now
        engine.submit(GenerationRequest("long", [5] * 100, SamplingParams(5, 0.0), events["long"].put))
        long_end = events["long"].get(timeout=60)
        short_events = [events["short"].get(timeout=60)]
        while not isinstance(short_events[-1], Finished):
            short_events.append(events["short"].get(timeout=60))
    finally:
        engine.stop()
    assert isinstance(long_end, Finished) and long_end.reason == "error"
    assert short_events[-1].reason == "length" and short_events[-1].completion_tokens == 60
