"""The phi3-mini build path, run at a toy size on CPU: it writes a loadable base and an adapter that matters."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, Phi3Config

from devtools.benchmarks import shapes
from devtools.benchmarks.baseline_server import ChatMessage, ChatRequest, load


def _toy_phi3(bos_id: int, eos_id: int, pad_id: int) -> Phi3Config:
    return Phi3Config(vocab_size=640, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                      tie_word_embeddings=False, bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=pad_id)


def _written(paths: shapes.ModelPaths) -> dict[str, int]:
    return {str(f): f.stat().st_mtime_ns for d in (paths.base_dir, paths.adapter_dir) for f in d.rglob("*")}


def test_phi3_build_path_writes_a_servable_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same code as the GPU run, smaller config: the base loads, the adapter changes it, generation runs."""
    monkeypatch.setattr(shapes, "phi3_mini_config", _toy_phi3)
    paths = shapes.build_model("phi3-mini", tmp_path, "cpu")
    first = _written(paths)
    shapes.build_model("phi3-mini", tmp_path, "cpu")
    assert _written(paths) == first  # a second run reuses the files instead of writing them again

    generator = load(str(paths.base_dir), str(paths.adapter_dir), "cpu")
    ids = torch.tensor([[1, 5, 9, 13]])
    base = AutoModelForCausalLM.from_pretrained(paths.base_dir, dtype=torch.float32)
    with torch.no_grad():
        assert not torch.allclose(generator.model(ids).logits, base(ids).logits)  # the adapter is applied

    request = ChatRequest(messages=[ChatMessage(role="user", content="Hello")], max_tokens=4, ignore_eos=True)
    streamer, thread, usage = generator.start(request)
    list(streamer)
    thread.join()
    assert usage["completion_tokens"] == 4 and usage["prompt_tokens"] > 0


def test_phi3_random_model_generates_tokens_that_decode_to_text(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Greedy decoding of the random model stays inside the tokenizer, so the streams carry text (and TTFT)."""
    monkeypatch.setattr(shapes, "phi3_mini_config", _toy_phi3)
    paths = shapes.build_model("phi3-mini", tmp_path, "cpu")
    generator = load(str(paths.base_dir), str(paths.adapter_dir), "cpu")
    prompts = torch.randint(0, len(generator.tokenizer), (4, 8), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = generator.model.generate(input_ids=prompts, attention_mask=torch.ones_like(prompts),
                                       max_new_tokens=16, min_new_tokens=16, do_sample=False,
                                       pad_token_id=generator.tokenizer.pad_token_id)
    new = out[:, prompts.shape[1]:]
    assert int(new.max()) < len(generator.tokenizer)  # the toy head has 640 rows, the tokenizer 512 ids
    assert all(text.strip() for text in generator.tokenizer.batch_decode(new, skip_special_tokens=True))
