"""More adapter versions of the tiny model, laid out as deploys publish them: <share>/serving/adapters/<version>."""

import json
import shutil
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

from devtools.tiny_model import TinyModelPaths

WEIGHTS = "adapter_model.safetensors"


def publish_version(tiny: TinyModelPaths, root: Path, version: str, seed: int,
                    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj"),
                    rank: int = 4, alpha: int = 8) -> Path:
    """A new LoRA version of the tiny base (other targets and rank than the start-up adapter) at root/version."""
    base = AutoModelForCausalLM.from_pretrained(tiny.base_dir, dtype=torch.float32)
    lora = LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(target_modules), task_type="CAUSAL_LM")
    model = get_peft_model(base, lora)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    path = root / version
    model.save_pretrained(str(path))
    return path


def copy_version(source: Path, root: Path, version: str) -> Path:
    """The same adapter published again under another version."""
    path = root / version
    shutil.copytree(source, path)
    return path


def break_version(source: Path, root: Path, version: str, how: str) -> Path:
    """A copy of `source` broken one way: `missing` weights file, `corrupt` file, `shapes` of one tensor."""
    path = copy_version(source, root, version)
    weights = path / WEIGHTS
    if how == "missing":
        weights.unlink()
    elif how == "corrupt":
        weights.write_bytes(weights.read_bytes()[:100] + b"\x00garbage" * 10)
    elif how == "shapes":
        tensors = load_file(weights)
        key = next(k for k in sorted(tensors) if "lora_A" in k)
        tensors[key] = torch.zeros(tensors[key].shape[0], tensors[key].shape[1] + 3)
        save_file(tensors, weights)
    elif how == "config":
        config = json.loads((path / "adapter_config.json").read_text())
        config["peft_type"] = "IA3"
        (path / "adapter_config.json").write_text(json.dumps(config))
    else:
        raise ValueError(how)
    return path
