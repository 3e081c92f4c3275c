"""The memory-bandwidth bound counts exactly the weights a decode step reads (checked on meta tensors)."""

import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from devtools.benchmarks.bandwidth import decode_weight_bytes, estimate, hbm_gbps_for
from devtools.benchmarks.shapes import phi3_mini_config


def test_phi3_mini_weight_bytes_match_the_model_built_from_the_config() -> None:
    """Weights read per step = every parameter but the input embedding (a row gather), in bf16."""
    config = phi3_mini_config(bos_id=1, eos_id=2, pad_id=0)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (3072, 32, 32)
    assert (config.intermediate_size, config.vocab_size) == (8192, 32064)
    embedding = model.get_input_embeddings().weight.numel()
    total = sum(p.numel() for p in model.parameters())
    weights, kv_per_token = decode_weight_bytes(config.to_dict())
    assert weights == 2 * (total - embedding)
    assert 7.3e9 < weights < 7.6e9  # ~3.7 B parameters read per step
    assert kv_per_token == 2 * 32 * 32 * 96 * 2


def test_bound_grows_with_batch_and_device_table(tmp_path: Path) -> None:
    """A bigger batch amortises the weights; known GPUs resolve to their data-sheet bandwidth."""
    (tmp_path / "config.json").write_text(json.dumps(phi3_mini_config(1, 2, 0).to_dict()))
    bound = estimate(tmp_path, "NVIDIA H200", 4800.0, [1, 8, 32], context_tokens=128)
    per_stream = bound.bound_tokens_per_second
    assert 600 < per_stream[1] < 700  # 4.8 TB/s / ~7.4 GB
    assert per_stream[1] < per_stream[8] < per_stream[32] < 32 * per_stream[1]
    assert hbm_gbps_for("NVIDIA A100 80GB PCIe") == 1935.0
    assert hbm_gbps_for("Tesla T4") == 320.0
    assert hbm_gbps_for("NVIDIA H100 80GB HBM3") == 3350.0
    assert hbm_gbps_for("Some Future GPU") is None
