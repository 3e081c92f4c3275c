"""Engine pieces in-process: incremental detokenization, stop strings, per-row sampling, failures, warm-up."""

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from devtools.tiny_model import TinyModelPaths
from inference_container.engine import Engine, Finished, GenerationRequest, QueueFullError, SamplingParams
from inference_container.engine.detokenize import Detokenizer
from inference_container.engine.sampling import make_generator, sample_rows
from inference_container.metrics import ServerMetrics
from inference_container.warmup import warm_up

MIXED = "the quick 你好 brown fox ☕ jumps over é the lazy dog 😀"  # 2-, 3- and 4-byte characters


@pytest.fixture(scope="module")
def tokenizer(tiny_share: TinyModelPaths) -> Any:
    """The tiny model's (fast) tokenizer."""
    return AutoTokenizer.from_pretrained(tiny_share.base_dir)


class _CountingDecode:
    """Delegates `decode`, recording how many token ids each call decoded."""

    def __init__(self, inner: Any, sizes: list[int]) -> None:
        self.inner, self.sizes = inner, sizes

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        self.sizes.append(len(ids))
        return str(self.inner.decode(ids, skip_special_tokens=skip_special_tokens))


class _SeenTokenizer(_CountingDecode):
    """The tiny tokenizer as the detokenizer sees it: fast (its Rust backend) or posing as a slow one."""

    def __init__(self, real: Any, fast: bool) -> None:
        super().__init__(real, [])
        self.is_fast, self.all_special_ids = fast, real.all_special_ids
        self.added_tokens_decoder = real.added_tokens_decoder
        self.backend_tokenizer = _CountingDecode(real.backend_tokenizer, self.sizes)


@pytest.fixture(params=["fast", "slow"])
def seen(request: pytest.FixtureRequest, tokenizer: Any) -> _SeenTokenizer:
    """The tiny tokenizer, fast or posing as slow, counting the ids it decodes."""
    return _SeenTokenizer(tokenizer, request.param == "fast")


def _ids(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _deltas(tokenizer: Any, ids: list[int], stop: tuple[str, ...] = ()) -> tuple[list[str], bool]:
    """What the engine would stream for `ids`: the deltas (the final text last) and whether a stop was hit."""
    text = Detokenizer(tokenizer).stream(stop)
    released: list[str] = []
    for token in ids:
        delta, hit = text.add(token)
        released.append(delta)
        if hit:
            return released, True
    return [*released, text.rest()], False


def _feed(tokenizer: Any, text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    released, hit = _deltas(tokenizer, _ids(tokenizer, text), stop)
    return "".join(released), hit


@pytest.mark.parametrize(("stop", "expected"), [
    (("lazy dog",), "the quick 你好 brown fox ☕ jumps over é the "),
    (("k 你", "zzz"), "the quic"),
    (("o",), "the quick 你好 br"),
    (("你好",), "the quick "),  # a stop string made of multi-byte characters, each split over tokens
    (("好 b",), "the quick 你"),
    (("☕ j", "é"), "the quick 你好 brown fox "),
])
def test_output_is_cut_before_the_first_stop_string(tokenizer: Any, stop: tuple[str, ...], expected: str) -> None:
    assert _feed(tokenizer, MIXED, stop) == (expected, True)


def test_without_a_stop_hit_all_text_is_released(tokenizer: Any) -> None:
    assert _feed(tokenizer, MIXED, ("absent",)) == (MIXED, False)


def test_streamed_text_is_one_decode_of_all_tokens_and_never_splits_a_character(seen: _SeenTokenizer,
                                                                                tokenizer: Any) -> None:
    end, user = tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|user|>")
    ids = _ids(tokenizer, MIXED[:12]) + [end] * 3 + _ids(tokenizer, MIXED[12:]) + [user, end]
    released, hit = _deltas(seen, ids)
    assert not hit
    assert "".join(released) == tokenizer.decode(ids, skip_special_tokens=True) == MIXED
    assert not any("\ufffd" in delta for delta in released)
    assert {"你", "好", "☕", "é", "😀"} <= set(released)  # each arrived whole, in one delta


def test_character_cut_off_by_the_end_of_the_output_shows_as_one_decode_shows_it(seen: _SeenTokenizer,
                                                                                  tokenizer: Any) -> None:
    ids = _ids(tokenizer, "tea ☕")[:-1]  # the last byte of the 3-byte cup never comes
    released, _ = _deltas(seen, ids)
    assert "".join(released) == tokenizer.decode(ids) == "tea \ufffd"
    assert released[-1] == "\ufffd"  # held back until the request ended


def test_decoding_cost_per_token_does_not_grow_with_the_output(seen: _SeenTokenizer, tokenizer: Any) -> None:
    ids = _ids(tokenizer, MIXED * 60) + [tokenizer.eos_token_id] * 500 + _ids(tokenizer, MIXED * 60)
    assert len(ids) > 4000
    text = Detokenizer(seen).stream(("never",))
    per_token: list[int] = []
    for token in ids:
        before = sum(seen.sizes)
        text.add(token)
        per_token.append(sum(seen.sizes) - before)
    assert max(per_token) <= 24  # ids decoded for one token: a few, at token 10 as at token 4000
    assert sum(per_token) <= 8 * len(ids)


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


def test_failed_prefill_fails_only_the_newcomer(tiny_share: TinyModelPaths, tokenizer: Any) -> None:
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


def _when(condition: Callable[[], bool], deadline_seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)  # polling interval, bounded by the deadline
    return False


def test_warm_up_waits_for_the_only_slot_instead_of_being_refused(tiny_share: TinyModelPaths,
                                                                  tokenizer: Any) -> None:
    """MAX_BATCH_SIZE=1, MAX_QUEUE_SIZE=0: the warm-up's request must queue where a client's gets a 429."""
    metrics = ServerMetrics()
    model = AutoModelForCausalLM.from_pretrained(tiny_share.base_dir).eval()
    engine = Engine(model, tokenizer, metrics, max_batch_size=1, max_queue_size=0)
    engine.start()
    holder: queue.Queue = queue.Queue()
    errors: list[BaseException] = []

    def warm() -> None:
        try:
            warm_up(engine, tokenizer)
        except Exception as exc:  # reported by the assertions below
            errors.append(exc)

    try:
        long_request = GenerationRequest("holder", [5, 6, 7], SamplingParams(4000, 0.0, ignore_eos=True),
                                         holder.put)
        engine.submit(long_request)
        holder.get(timeout=60)  # its first text: it holds the only slot for thousands of steps
        with pytest.raises(QueueFullError):
            engine.submit(GenerationRequest("client", [5], SamplingParams(4, 0.0), holder.put))
        warming = threading.Thread(target=warm)
        warming.start()
        assert _when(lambda: bool(errors) or metrics.registry.get_sample_value("vllm:num_requests_waiting") == 1)
        assert errors == []
        engine.cancel(long_request)  # the slot frees; the warm-up's request runs in it
        warming.join(timeout=60)
    finally:
        engine.stop()
    assert not warming.is_alive() and errors == []
