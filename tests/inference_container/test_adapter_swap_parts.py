"""Swap parts in-process: adapter checks, exact in-place weights (float32 and bf16), the engine's barrier."""

import queue
from pathlib import Path
from typing import Any

import pytest
import torch
from peft import PeftModel
from pydantic import ValidationError
from transformers import AutoModelForCausalLM, AutoTokenizer

from devtools.tiny_model import TinyModelPaths
from inference_container.adapter_weights import AdapterLoadError, BaseTensors, load_adapter, plan_swap
from inference_container.admin_router import AdapterSwapRequest
from inference_container.engine import Admitted, Engine, Finished, GenerationRequest, SamplingParams
from inference_container.merge_cache import plain_state_dict
from inference_container.metrics import ServerMetrics
from tests.inference_container.adapter_versions import break_version, publish_version


@pytest.fixture(scope="module")
def v2(tiny_share: TinyModelPaths, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish_version(tiny_share, tmp_path_factory.mktemp("adapters"), "v2", seed=7)


def _merged(tiny: TinyModelPaths, adapter: Path, dtype: torch.dtype) -> Any:
    base = AutoModelForCausalLM.from_pretrained(tiny.base_dir, dtype=dtype).eval()
    return PeftModel.from_pretrained(base, adapter).merge_and_unload().eval()


@pytest.mark.parametrize(("how", "message"), [("missing", "adapter_model.safetensors is missing"),
                                              ("corrupt", "is not readable"), ("shapes", "wrong shapes"),
                                              ("config", "is not LORA")])
def test_unfit_adapters_are_refused_naming_what_failed(tiny_share: TinyModelPaths, v2: Path, tmp_path: Path,
                                                       how: str, message: str) -> None:
    model = _merged(tiny_share, tiny_share.adapter_dir, torch.float32)
    with pytest.raises(AdapterLoadError, match=message):
        load_adapter("bad", break_version(v2, tmp_path, f"bad-{how}", how), model)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_in_place_weights_equal_a_fresh_merge_after_round_trips(tiny_share: TinyModelPaths, v2: Path,
                                                                 dtype: torch.dtype) -> None:
    """v1 -> v2 -> v1 -> ... -> v2 rewrites the merged weights to exactly what merging v2 at start-up gives."""
    model = _merged(tiny_share, tiny_share.adapter_dir, dtype)
    start = {k: v.clone() for k, v in plain_state_dict(model).items()}
    base = BaseTensors(tiny_share.base_dir)
    one, two = load_adapter("v1", tiny_share.adapter_dir, model), load_adapter("v2", v2, model)
    current = one
    for new in [two, one] * 5 + [two]:
        plan_swap(model, base, current, new).apply()
        current = new
    fresh = plain_state_dict(_merged(tiny_share, v2, dtype))
    swapped = plain_state_dict(model)
    assert all(torch.equal(swapped[k], fresh[k]) for k in fresh)  # no drift, even in bf16
    plan = plan_swap(model, base, two, one)
    plan.apply()
    plan.revert()  # a failed gate writes back exactly what was there
    assert all(torch.equal(swapped[k], plain_state_dict(model)[k]) for k in fresh)
    plan.apply()
    assert all(torch.equal(start[k], plain_state_dict(model)[k]) for k in start)


def test_swap_request_body_is_strict() -> None:
    good = {"version": "v2", "adapter_path": "/mount/serving/adapters/v2",
            "gate": {"prompts": [{"prompt": "hi", "expect": ["x"]}]}}
    parsed = AdapterSwapRequest.model_validate(good)
    assert parsed.gate is not None and parsed.gate.deadline_s == 30 and parsed.gate.max_tokens == 16
    for bad in ({**good, "extra": 1}, {**good, "adapter_path": "v2"}, {**good, "version": "base"},
                {**good, "version": "a/b"}, {**good, "gate": {"prompts": []}},
                {**good, "gate": {"prompts": [{"prompt": "hi", "messages": [{"role": "user", "content": "x"}]}]}}):
        with pytest.raises(ValidationError):
            AdapterSwapRequest.model_validate(bad)


def _events_until_finished(events: queue.Queue) -> list[Any]:
    seen = [events.get(timeout=60)]
    while not isinstance(seen[-1], Finished):
        seen.append(events.get(timeout=60))
    return seen


def test_engine_barrier_drains_holds_clients_and_runs_internal_requests(tiny_share: TinyModelPaths) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_share.base_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_share.base_dir).eval()
    engine = Engine(model, tokenizer, ServerMetrics(), max_batch_size=4, max_queue_size=4, adapter_version="v1")
    engine.start()
    running: queue.Queue = queue.Queue()
    waiting: queue.Queue = queue.Queue()
    internal: queue.Queue = queue.Queue()
    pinned: queue.Queue = queue.Queue()
    order: list[str] = []
    try:
        def old_emit(event: Any) -> None:
            running.put(event)
            if isinstance(event, Finished):
                order.append("old")

        engine.submit(GenerationRequest("old", [5, 6], SamplingParams(40, 0.0, ignore_eos=True), old_emit))
        assert running.get(timeout=60) == Admitted("v1")
        engine.hold()

        def swap() -> None:
            order.append("swap")
            engine.adapter_version = "v2"

        done = engine.call_when_idle(swap)
        engine.submit(GenerationRequest("client", [5], SamplingParams(4, 0.0), waiting.put))
        done.result(timeout=60)
        engine.submit(GenerationRequest("gate", [5], SamplingParams(4, 0.0), internal.put, internal=True))
        assert _events_until_finished(internal)[0] == Admitted("v2")
        assert waiting.empty()  # the client's request still waits while the engine is held
        engine.submit(GenerationRequest("pinned", [5], SamplingParams(4, 0.0), pinned.put, adapter_version="v1"))
        engine.release()
        client_events = _events_until_finished(waiting)
        pinned_end = pinned.get(timeout=60)
    finally:
        engine.stop()
    assert order == ["old", "swap"]  # the running request finished on the old weights before the swap
    assert _events_until_finished(running)[-1].completion_tokens == 40
    assert client_events[0] == Admitted("v2")
    assert isinstance(pinned_end, Finished) and pinned_end.reason == "model_gone"
