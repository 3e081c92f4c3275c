"""Loading in-process: weights read into memory (never memory-mapped), the base's end-of-turn ids kept."""

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

from devtools.tiny_model import TinyModelPaths
from inference_container import loading
from inference_container.engine.scheduler import _eos_ids
from inference_container.metrics import ServerMetrics
from inference_container.settings import Settings

PROC_MAPS = Path("/proc/self/maps")


@pytest.fixture
def base_copy(tiny_share: TinyModelPaths, tmp_path: Path) -> Path:
    """A copy of the tiny base whose generation config names two end ids, as chat models' configs do."""
    base = tmp_path / "tiny-chat"
    shutil.copytree(tiny_share.base_dir, base)
    config_path = base / "generation_config.json"
    config = json.loads(config_path.read_text())
    config["eos_token_id"] = [config["eos_token_id"], 7]
    config_path.write_text(json.dumps(config))
    return base


def _load(base: Path, adapter: Path, cache_dir: Path, times: int) -> tuple[loading.LoadedModel, ServerMetrics]:
    """Load `times` times on one merge cache (the second load hits it); the last model and its metrics."""
    settings = Settings(model_path=base, adapter_path=adapter, merged_cache_dir=cache_dir)
    for _ in range(times):
        metrics = ServerMetrics()
        loaded = loading.load(settings, metrics, loading.PhaseTimer(metrics))
    return loaded, metrics


@pytest.mark.parametrize("cached", [False, True])
def test_end_of_turn_ids_from_generation_config_are_kept(base_copy: Path, tiny_share: TinyModelPaths,
                                                          tmp_path: Path, cached: bool) -> None:
    loaded, metrics = _load(base_copy, tiny_share.adapter_dir, tmp_path / "merged", 2 if cached else 1)
    assert metrics.registry.get_sample_value("inference_merged_cache_hit") == (1.0 if cached else 0.0)
    assert 7 in _eos_ids(loaded.model, loaded.tokenizer)
    assert loaded.max_model_len == 4096


def _mapped_safetensors() -> set[str]:
    """The safetensors files this process has memory-mapped right now."""
    return {line.split()[-1] for line in PROC_MAPS.read_text().splitlines() if line.endswith(".safetensors")}


@pytest.mark.skipif(not PROC_MAPS.is_file(), reason="reads the process's memory maps from Linux /proc")
@pytest.mark.parametrize("cached", [False, True])
def test_weights_are_read_into_memory_not_memory_mapped(base_copy: Path, tiny_share: TinyModelPaths,
                                                        tmp_path: Path, cached: bool) -> None:
    """mmap over an SMB/NFS share pages every weight in over the network on first use; the server reads eagerly."""
    weights = next(base_copy.glob("*.safetensors"))
    mapped = load_file(weights)  # the probe sees a memory-mapped load, so an empty answer below means something
    assert str(weights) in _mapped_safetensors()
    del mapped
    loaded, _ = _load(base_copy, tiny_share.adapter_dir, tmp_path / "merged", 2 if cached else 1)
    assert next(loaded.model.parameters()).abs().sum() > 0  # the weights are there, and still referenced
    assert _mapped_safetensors() == set()


@pytest.mark.parametrize(("cuda", "stored", "device", "dtype"), [
    (False, torch.bfloat16, "cpu", torch.float32),
    (True, torch.float16, "cuda", torch.float16),
    (True, torch.bfloat16, "cuda", torch.bfloat16),
    (True, torch.float32, "cuda", torch.bfloat16),
])
def test_device_and_dtype_follow_the_hardware_and_stored_dtype(monkeypatch: pytest.MonkeyPatch, cuda: bool,
                                                               stored: torch.dtype, device: str,
                                                               dtype: torch.dtype) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    config = SimpleNamespace(dtype=stored)
    assert loading.pick_device_and_dtype(config) == (torch.device(device), dtype)
