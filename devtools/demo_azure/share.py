"""What fine-tuning leaves on the share: the tiny base model and a training adapter; and a retrained adapter."""

import shutil
import warnings
from pathlib import Path

from safetensors.numpy import load_file, save_file
from transformers.utils import logging as transformers_logging

from devtools.tiny_model import build
from devtools.tiny_model.build import ADAPTER_SUBDIR, BASE_SUBDIR

ADAPTER_WEIGHTS = "adapter_model.safetensors"


def seed_share(share_dir: Path, scratch: Path) -> None:
    """Generate the tiny model and adapter in `scratch`, then copy them onto the share (as the e2e test does)."""
    transformers_logging.disable_progress_bar()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # transformers' deprecation notes, not the demo's business
        built = build(scratch)
    shutil.copytree(built.share_dir, share_dir, dirs_exist_ok=True)


def retrain_adapter(share_dir: Path) -> Path:
    """Overwrite the training output's weights as a new training run would (LoRA B matrices negated); the file."""
    weights = share_dir / ADAPTER_SUBDIR / ADAPTER_WEIGHTS
    tensors = load_file(str(weights))
    retrained = {name: -tensor if "lora_B" in name else tensor for name, tensor in tensors.items()}
    save_file(retrained, str(weights))
    return weights


BASE_MODEL = BASE_SUBDIR.as_posix()
"""The base model's folder on the share, as deploy requests name it."""
