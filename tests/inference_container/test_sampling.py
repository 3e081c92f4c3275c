"""Batched sampling in-process: exact checks on hand-made logits, then the engine on the tiny model."""

import json
import queue
from typing import Any

import jsonschema
import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from devtools.tiny_model import TinyModelPaths
from inference_container.engine import Engine, Finished, GenerationRequest, SamplingParams, TextDelta
from inference_container.engine.grammar import Grammars
from inference_container.engine.sampling import BatchSampler, make_generator
from inference_container.metrics import ServerMetrics

CPU = torch.device("cpu")


def _sample(logits: torch.Tensor, params: list[SamplingParams], steps: int = 1) -> list[list[int]]:
    """Tokens per row over `steps` steps of the same logits (penalties see the earlier steps' tokens)."""
    sampler = BatchSampler(CPU)
    sampler.append(params, [make_generator(p, CPU) for p in params])
    rows: list[list[int]] = [[] for _ in params]
    for _ in range(steps):
        for row, pick in enumerate(sampler.sample(logits)):
            rows[row].append(pick.token)
    return rows


def test_greedy_top_k_and_top_p_rows_keep_their_own_parameters() -> None:
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0]] * 3)
    params = [SamplingParams(4, temperature=0.0), SamplingParams(4, temperature=2.0, top_k=1),
              SamplingParams(4, temperature=2.0, top_p=1e-6)]
    assert _sample(logits, params, steps=20) == [[1] * 20] * 3


def test_top_k_keeps_only_the_k_best_tokens() -> None:
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0]])
    tokens = _sample(logits, [SamplingParams(4, temperature=5.0, top_k=2)], steps=200)[0]
    assert set(tokens) == {1, 3}


def test_frequency_penalty_moves_off_a_repeated_token() -> None:
    """Two tokens 0.5 apart: a frequency penalty of 0.3 flips greedy after two repeats, then alternates."""
    logits = torch.tensor([[2.0, 1.5, -5.0]])
    free = _sample(logits, [SamplingParams(8, temperature=0.0)], steps=4)[0]
    penalized = _sample(logits, [SamplingParams(8, temperature=0.0, frequency_penalty=0.3)], steps=4)[0]
    assert free == [0, 0, 0, 0]
    assert penalized == [0, 0, 1, 0]  # 2.0-0.6 < 1.5; then 1.5-0.3=1.2 < 1.4


def test_presence_penalty_counts_a_token_once() -> None:
    logits = torch.tensor([[2.0, 1.8, 1.7]])
    tokens = _sample(logits, [SamplingParams(8, temperature=0.0, presence_penalty=0.6)], steps=5)[0]
    assert tokens == [0, 1, 2, 0, 0]  # every seen token sits 0.6 lower, however often it was seen


def test_negative_penalty_encourages_repeats() -> None:
    logits = torch.tensor([[2.0, 2.05]])
    assert _sample(logits, [SamplingParams(8, temperature=0.0, frequency_penalty=-1.0)], steps=3)[0] == [1, 1, 1]


def test_logit_bias_forces_and_bans_tokens() -> None:
    logits = torch.randn(2, 32, generator=torch.Generator().manual_seed(3))
    best = int(logits[1].argmax())
    params = [SamplingParams(4, temperature=1.0, logit_bias=((7, 100.0),)),
              SamplingParams(4, temperature=0.0, logit_bias=((best, -100.0),))]
    rows = _sample(logits, params, steps=30)
    assert rows[0] == [7] * 30
    assert best not in rows[1]


def test_logprobs_are_the_raw_models_log_softmax() -> None:
    logits = torch.randn(2, 40, generator=torch.Generator().manual_seed(5))
    params = [SamplingParams(4, temperature=0.0, logprobs=3), SamplingParams(4, temperature=0.7, logprobs=0)]
    sampler = BatchSampler(CPU)
    sampler.append(params, [None, None])
    chosen = sampler.sample(logits)
    expected = torch.log_softmax(logits, dim=-1)
    greedy_token, greedy_lp = chosen[0].token, chosen[0].logprob
    assert greedy_lp is not None and greedy_lp.token_id == greedy_token == int(logits[0].argmax())
    assert [t for t, _ in greedy_lp.top] == expected[0].topk(3).indices.tolist()
    assert greedy_lp.top[0][1] == pytest.approx(greedy_lp.logprob)
    sampled_token, sampled_lp = chosen[1].token, chosen[1].logprob
    assert sampled_lp is not None and sampled_lp.top == ()
    assert sampled_lp.logprob == pytest.approx(float(expected[1, sampled_token]), abs=1e-5)


def test_a_seeded_row_samples_the_same_beside_any_batch_mates() -> None:
    generator = torch.Generator().manual_seed(11)
    row = torch.randn(1, 300, generator=generator)
    mine = SamplingParams(4, temperature=1.3, top_p=0.9, seed=1234)
    alone = _sample(row, [mine], steps=40)[0]
    mates = [SamplingParams(4, temperature=0.8, top_k=5), SamplingParams(4, temperature=0.0),
             SamplingParams(4, temperature=1.0, frequency_penalty=1.0), SamplingParams(4, temperature=1.0, seed=9),
             SamplingParams(4, temperature=1.0, logit_bias=((3, 5.0),)), SamplingParams(4, temperature=2.0),
             SamplingParams(4, temperature=0.5, top_p=0.5)]
    crowd = torch.cat([torch.randn(3, 300, generator=generator), row, torch.randn(4, 300, generator=generator)])
    beside = _sample(crowd, [*mates[:3], mine, *mates[3:]], steps=40)[3]
    assert beside == alone


@pytest.fixture(scope="module")
def grammars(tiny_share: TinyModelPaths) -> Grammars:
    tokenizer = AutoTokenizer.from_pretrained(tiny_share.base_dir)
    config = AutoConfig.from_pretrained(tiny_share.base_dir)
    return Grammars(tokenizer, int(config.vocab_size))


@pytest.fixture(scope="module")
def engine(tiny_share: TinyModelPaths, grammars: Grammars) -> Any:
    tokenizer = AutoTokenizer.from_pretrained(tiny_share.base_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_share.base_dir).eval()
    assert grammars.vocab_size == model.get_input_embeddings().num_embeddings
    running = Engine(model, tokenizer, ServerMetrics(), max_batch_size=16, max_queue_size=16, grammars=grammars)
    running.start()
    yield running
    running.stop()


def _submit(engine: Engine, name: str, prompt: list[int], params: SamplingParams) -> "queue.Queue[Any]":
    events: queue.Queue[Any] = queue.Queue()
    engine.submit(GenerationRequest(name, prompt, params, events.put))
    return events


def _collect(events: "queue.Queue[Any]", choices: int = 1) -> dict[int, tuple[str, list[int], str]]:
    """Per choice index: its text, its tokens (from logprobs, when asked) and its finish reason."""
    texts: dict[int, list[str]] = {}
    tokens: dict[int, list[int]] = {}
    ended: dict[int, str] = {}
    while len(ended) < choices:
        event = events.get(timeout=120)
        if isinstance(event, TextDelta | Finished):
            texts.setdefault(event.index, []).append(event.text)
            tokens.setdefault(event.index, []).extend(lp.token_id for lp in event.logprobs)
        if isinstance(event, Finished):
            ended[event.index] = event.reason
    return {i: ("".join(texts[i]), tokens[i], ended[i]) for i in ended}


def test_seeded_request_gives_the_same_text_alone_and_beside_seven_others(engine: Engine) -> None:
    mine = SamplingParams(24, temperature=1.0, seed=77, ignore_eos=True, logprobs=0)
    alone = _collect(_submit(engine, "alone", [5, 6, 7, 8], mine))[0]
    others = [_submit(engine, f"o{i}", [9 + i] * (3 + 2 * i), SamplingParams(30 - i, temperature=1.0,
                                                                               ignore_eos=True))
              for i in range(7)]
    beside = _collect(_submit(engine, "beside", [5, 6, 7, 8], mine))[0]
    for other in others:
        _collect(other)
    assert len(alone[1]) == 24 and beside == alone


def test_greedy_output_does_not_depend_on_who_joins_or_leaves(engine: Engine) -> None:
    """Rows join with shorter and longer prompts and leave at different steps; greedy text stays the same."""
    prompts = [[5, 6, 7], [8] * 30, [9, 10], [11] * 12]
    params = [SamplingParams(12 + 7 * i, temperature=0.0, ignore_eos=True, logprobs=0) for i in range(4)]
    pairs = list(zip(prompts, params, strict=True))
    alone = [_collect(_submit(engine, f"a{i}", p, q))[0][1] for i, (p, q) in enumerate(pairs)]
    running = []
    for i, (p, q) in enumerate(pairs):
        running.append(_submit(engine, f"b{i}", p, q))
        if i == 1:
            _collect(running[0])  # one row leaves before the others join
    together = [_collect(r)[0][1] for r in running[1:]]
    assert together == alone[1:]


def test_n_choices_share_the_prompt_and_seeded_choices_differ_but_repeat(engine: Engine) -> None:
    greedy = _collect(_submit(engine, "g", [5, 6, 7], SamplingParams(10, temperature=0.0, ignore_eos=True, n=3)), 3)
    assert sorted(greedy) == [0, 1, 2] and len({greedy[i][0] for i in greedy}) == 1
    seeded = SamplingParams(16, temperature=1.0, seed=5, ignore_eos=True, n=3, logprobs=0)
    first = _collect(_submit(engine, "s1", [5, 6, 7], seeded), 3)
    again = _collect(_submit(engine, "s2", [5, 6, 7], seeded), 3)
    assert first == again
    assert len({tuple(first[i][1]) for i in first}) == 3


PET = {"type": "object", "properties": {
    "name": {"type": "string", "maxLength": 12},
    "legs": {"type": "integer", "minimum": 0, "maximum": 8},
    "kind": {"enum": ["cat", "dog", "bird"]},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 3}},
    "required": ["name", "legs", "kind", "tags"], "additionalProperties": False}


def test_seeded_request_gives_the_same_text_alone_and_in_a_full_mixed_batch_with_json_rows(engine: Engine,
                                                                                           grammars: Grammars) -> None:
    """A full batch (16 rows) of penalties, bias, top-k, n > 1, greedy and JSON rows (seeded and not) beside it
    does not change a seeded row's text."""
    mine = SamplingParams(20, temperature=1.0, seed=31, ignore_eos=True, logprobs=0)
    alone = _collect(_submit(engine, "alone", [5, 6, 7, 8], mine))[0]
    pet = grammars.json(PET)
    mates = [SamplingParams(250, temperature=1.0, grammar=pet), SamplingParams(250, temperature=0.0, grammar=pet),
             SamplingParams(250, temperature=0.9, seed=4, grammar=grammars.json(None)),
             SamplingParams(250, temperature=1.2, n=4, grammar=pet),  # bounded: at most ~150 tokens
             SamplingParams(25, temperature=1.0, frequency_penalty=1.5, presence_penalty=0.5, ignore_eos=True),
             SamplingParams(25, temperature=0.8, logit_bias=((40, 100.0),), ignore_eos=True),
             SamplingParams(25, temperature=1.0, top_k=3, ignore_eos=True),
             SamplingParams(25, temperature=0.0, ignore_eos=True),
             SamplingParams(25, temperature=1.0, top_p=0.5, seed=8, n=3, ignore_eos=True),
             SamplingParams(25, temperature=0.7, logit_bias=((41, -100.0),), logprobs=2, ignore_eos=True)]
    assert sum(p.n for p in mates) + 1 == engine.max_batch_size  # with mine, the batch is full
    others = [_submit(engine, f"m{i}", [9 + i] * (2 + i), p) for i, p in enumerate(mates)]
    beside = _collect(_submit(engine, "beside", [5, 6, 7, 8], mine))[0]
    results = [_collect(other, choices=p.n) for other, p in zip(others, mates, strict=True)]
    assert len(alone[1]) == 20 and beside == alone
    for text, _, reason in [*(r[0] for r in results[:3]), *results[3].values()]:  # JSON rows kept to grammars
        assert reason == "stop", text
        assert isinstance(json.loads(text), dict)


@pytest.mark.parametrize("temperature", [0.0, 1.0, 1.8])
def test_json_schema_rows_always_end_in_a_valid_document(engine: Engine, grammars: Grammars,
                                                        temperature: float) -> None:
    """Eight choices per temperature (sampled ones with their own seeds): each parses and validates."""
    params = SamplingParams(120, temperature=temperature, seed=11, n=8, grammar=grammars.json(PET))
    replies = _collect(_submit(engine, f"pet{temperature}", [5, 6, 7], params), choices=8)
    for text, _, reason in replies.values():
        assert reason == "stop", text
        jsonschema.validate(json.loads(text), PET)


def test_a_json_row_that_runs_out_of_tokens_ends_by_length_with_a_prefix_of_json(engine: Engine,
                                                                                  grammars: Grammars) -> None:
    params = SamplingParams(3, temperature=0.0, grammar=grammars.json(PET))
    text, _, reason = _collect(_submit(engine, "short", [5, 6, 7], params))[0]
    assert reason == "length" and text.startswith('{"')
