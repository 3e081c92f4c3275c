"""Writes the tiny base model and its LoRA adapter into a share directory."""

from dataclasses import dataclass
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from devtools.tiny_model.tokenizer import train_tokenizer
from share_layout.paths import MODEL_CACHE, TRAINING_ADAPTER

BASE_SUBDIR = Path(MODEL_CACHE) / "local" / "tiny-chat"
ADAPTER_SUBDIR = Path(TRAINING_ADAPTER)


@dataclass(frozen=True)
class TinyModelPaths:
    """Where the share is, and where in it the base model and the adapter were written."""

    share_dir: Path
    base_dir: Path
    adapter_dir: Path


def _config(vocab_size: int, bos_id: int, eos_id: int, pad_id: int) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        tie_word_embeddings=False,
    )


def _randomise_lora(model: torch.nn.Module, seed: int) -> None:
    """LoRA's B matrices start at zero (a no-op adapter); give them weights so the adapter matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)


def _prefer_word_tokens(model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast) -> None:
    """Zero the output rows of all but whole-word tokens, so random weights still print readable words."""
    vocab = len(tokenizer)
    keep = torch.zeros(vocab)
    for token_id in range(vocab):
        text = str(tokenizer.decode([token_id]))
        keep[token_id] = float(text.startswith(" ") and len(text) >= 3 and text[1:].isalpha())
    with torch.no_grad():
        model.lm_head.weight.mul_(keep[:, None])


def build(share: Path, seed: int = 0) -> TinyModelPaths:
    """Generate the tiny chat model and adapter under `share`, in the AI Toolkit share layout."""
    share = Path(share)
    paths = TinyModelPaths(share_dir=share, base_dir=share / BASE_SUBDIR, adapter_dir=share / ADAPTER_SUBDIR)
    tokenizer = train_tokenizer()
    config = _config(len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    _prefer_word_tokens(model, tokenizer)
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id
    )
    model.save_pretrained(paths.base_dir)
    tokenizer.save_pretrained(paths.base_dir)
    lora = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora)
    _randomise_lora(peft_model, seed + 1)
    peft_model.save_pretrained(str(paths.adapter_dir))
    return paths
