"""Start-up loading: read weights eagerly (no mmap), apply and merge the adapter, use the merge cache."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from transformers import MODEL_FOR_CAUSAL_LM_MAPPING, AutoConfig, AutoTokenizer, GenerationConfig
from transformers.utils import logging as hf_logging

from inference_container import merge_cache
from inference_container.base_view import BaseModelView
from inference_container.metrics import ServerMetrics
from inference_container.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PhaseTimer:
    """Times start-up phases into the log and the `inference_startup_phase_seconds` gauge."""

    metrics: ServerMetrics
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the enclosed block as phase `name`."""
        started = time.monotonic()
        yield
        elapsed = time.monotonic() - started
        self.seconds[name] = elapsed
        self.metrics.startup_phase.labels(phase=name).set(elapsed)
        log.info("startup phase %s took %.2fs", name, elapsed)


@dataclass
class LoadedModel:
    """What the engine needs: the (merged) model, its tokenizer and the context length."""

    model: Any
    tokenizer: Any
    max_model_len: int
    base_view: BaseModelView | None = None  # with an adapter: serves the base model from the merged weights


def pick_device_and_dtype(config: Any) -> tuple[torch.device, torch.dtype]:
    """GPU: the stored 16-bit dtype (bf16 if stored as fp32); CPU: float32."""
    if not torch.cuda.is_available():
        return torch.device("cpu"), torch.float32
    stored = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    dtype = stored if stored in (torch.float16, torch.bfloat16) else torch.bfloat16
    return torch.device("cuda"), dtype


def read_weights(model_dir: Path) -> dict[str, torch.Tensor]:
    """Read every safetensors file of a directory fully into memory (mmap over SMB/NFS is very slow)."""
    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no *.safetensors weights in {model_dir}")
    state: dict[str, torch.Tensor] = {}
    for path in files:
        with open(path, "rb") as handle:
            state.update(load_safetensors(handle.read()))
    return state


def build_model(config_dir: Path, state: dict[str, torch.Tensor], device: torch.device,
                dtype: torch.dtype) -> Any:
    """Instantiate the causal LM of `config_dir` from an in-memory state dict."""
    config = AutoConfig.from_pretrained(config_dir)
    model_class: Any = MODEL_FOR_CAUSAL_LM_MAPPING[type(config)]
    model = model_class.from_pretrained(None, config=config, state_dict=state, dtype=dtype)
    return model.to(device).eval()


def load(settings: Settings, metrics: ServerMetrics, timer: PhaseTimer) -> LoadedModel:
    """Load base (+ merged adapter), from the merge cache when it holds a valid entry."""
    hf_logging.disable_progress_bar()
    with timer.phase("tokenizer"):
        tokenizer = AutoTokenizer.from_pretrained(settings.model_path)
    config = AutoConfig.from_pretrained(settings.model_path)
    device, dtype = pick_device_and_dtype(config)
    model, hit = _load_weights(settings, timer, device, dtype)
    base_view = None
    if settings.adapter_path is not None:
        with timer.phase("base_view"):
            base_view = BaseModelView(model, settings.adapter_path)
    if (settings.model_path / "generation_config.json").is_file():  # chat models list end-of-turn ids here
        model.generation_config = GenerationConfig.from_pretrained(settings.model_path)
    metrics.merged_cache_hit.set(1 if hit else 0)
    limit = getattr(config, "max_position_embeddings", None) or 2048
    max_len = min(settings.max_model_len or limit, limit)
    log.info("model ready on %s (%s), max_model_len=%d, merged_cache_hit=%s", device, dtype, max_len, hit)
    return LoadedModel(model, tokenizer, max_len, base_view)


def _load_weights(settings: Settings, timer: PhaseTimer, device: torch.device,
                  dtype: torch.dtype) -> tuple[Any, bool]:
    adapter, cache_dir = settings.adapter_path, settings.merged_cache_dir
    key = None
    if adapter is not None and cache_dir is not None:
        key = merge_cache.cache_key(settings.model_path, adapter)
        with timer.phase("cache_load"):
            cached = merge_cache.load_entry(cache_dir, key)
        if cached is not None:
            log.info("merged cache hit: %s", cached[0])
            with timer.phase("build"):
                return build_model(cached[0], cached[1], device, dtype), True
        log.info("merged cache miss for key %s", key)
    with timer.phase("read"):
        state = read_weights(settings.model_path)
    with timer.phase("build"):
        model = build_model(settings.model_path, state, device, dtype)
    del state
    if adapter is None:
        return model, False
    model = _merge_adapter(model, adapter, timer)
    if cache_dir is not None and key is not None:
        with timer.phase("cache_write"):
            merge_cache.store_entry(cache_dir, key, model)
    return model, False


def _merge_adapter(model: Any, adapter: Path, timer: PhaseTimer) -> Any:
    from peft import PeftModel  # imported here: peft is only needed when an adapter is served

    with timer.phase("adapter"):
        peft_model = PeftModel.from_pretrained(model, adapter)
    with timer.phase("merge"):
        merged = peft_model.merge_and_unload()
    return merged.eval()
