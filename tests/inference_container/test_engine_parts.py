"""Engine pieces in-process: stop strings across token boundaries, per-row sampling parameters."""

import pytest
import torch
from transformers import AutoTokenizer

from inference_container.engine import SamplingParams
from inference_container.engine.detokenize import StopAwareText
from inference_container.engine.sampling import make_generator, sample_rows
from tiny_model import TinyModelPaths


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
