"""Models to benchmark: the tiny CPU model, or random bf16 weights of Phi-3-mini's shape for a GPU run.

The `phi3-mini` shape has never been run on this project's machines (no GPU there): it is correct by
construction, not by test. It writes ~7.6 GB of random weights, so it wants a GPU box with the disk.
"""

import gc
import json
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, GenerationConfig, Phi3Config, PreTrainedModel

from devtools import tiny_model
from devtools.tiny_model import TinyModelPaths as ModelPaths
from devtools.tiny_model.build import ADAPTER_SUBDIR, BASE_SUBDIR
from devtools.tiny_model.tokenizer import train_tokenizer

SHAPES = ("tiny", "phi3-mini")


def phi3_mini_config(bos_id: int, eos_id: int, pad_id: int) -> Phi3Config:
    """Phi-3-mini-4k-instruct's shape: hidden 3072, 32 layers, 32 heads, intermediate 8192, vocab 32064."""
    return Phi3Config(
        vocab_size=32064,
        hidden_size=3072,
        intermediate_size=8192,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=32,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )


def _existing(paths: ModelPaths, target_module: str) -> bool:
    """Whether the share already holds this base and an adapter made for it (it targets `target_module`)."""
    adapter_config = paths.adapter_dir / "adapter_config.json"
    if not (paths.base_dir / "config.json").is_file() or not adapter_config.is_file():
        return False
    return target_module in json.loads(adapter_config.read_text()).get("target_modules", [])


def _decodable_greedy(model: PreTrainedModel, tokenizer_size: int) -> None:
    """Zero the LM-head rows of ids the tokenizer lacks: greedy then picks ids that decode to text.

    Random weights over a 32064-token vocabulary would otherwise pick ids >= 512 nearly every step; those
    decode to "", so the streams would carry almost no content and time-to-first-token would be meaningless.
    The head keeps its full size, so every decode step still reads all of its bytes.
    """
    head = model.get_output_embeddings()
    weight = getattr(head, "weight", None)
    if not isinstance(weight, torch.Tensor):
        raise ValueError("the model has no output embedding weight to restrict")
    with torch.no_grad():
        weight[tokenizer_size:].zero_()


def _release_cached_gpu_memory() -> None:
    """Hand the build's cached CUDA blocks back, so the servers started next get the whole GPU."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _build_phi3_mini(share: Path, device: str) -> ModelPaths:
    """UNTESTED here: random bf16 Phi-3-mini-shaped base and a random LoRA adapter, in the share layout."""
    paths = ModelPaths(share, share / "model-cache/local/phi3-mini-random", share / ADAPTER_SUBDIR)
    if _existing(paths, "qkv_proj"):
        return paths
    tokenizer = train_tokenizer()  # ids < 512 are all in range; ids the tokenizer lacks decode to ""
    config = phi3_mini_config(tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id)
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    _decodable_greedy(model, len(tokenizer))
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id
    )
    model.save_pretrained(paths.base_dir)
    tokenizer.save_pretrained(paths.base_dir)
    lora = LoraConfig(r=16, lora_alpha=32, task_type="CAUSAL_LM",
                      target_modules=["qkv_proj", "o_proj", "gate_up_proj", "down_proj"])
    peft_model = get_peft_model(model, lora)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.02)
    peft_model.save_pretrained(str(paths.adapter_dir))
    return paths


def build_model(shape: str, share: Path, device: str) -> ModelPaths:
    """Write the base model and adapter for `shape` under `share`, or reuse them where already there."""
    if shape == "tiny":
        tiny = ModelPaths(share, share / BASE_SUBDIR, share / ADAPTER_SUBDIR)
        if _existing(tiny, "q_proj"):
            return tiny
        return tiny_model.build(share)
    if shape == "phi3-mini":
        paths = _build_phi3_mini(share, device)
        _release_cached_gpu_memory()
        return paths
    raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")
