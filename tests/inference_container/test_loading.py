"""Loading in-process: weights read eagerly, the base's generation config (end-of-turn ids) kept."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from devtools.tiny_model import TinyModelPaths
from inference_container import loading
from inference_container.engine.scheduler import _eos_ids
from inference_container.metrics import ServerMetrics
from inference_container.settings import Settings


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


@pytest.mark.parametrize("cached", [False, True])
def test_end_of_turn_ids_from_generation_config_are_kept(base_copy: Path, tiny_share: TinyModelPaths,
                                                          tmp_path: Path, cached: bool) -> None:
    settings = Settings(model_path=base_copy, adapter_path=tiny_share.adapter_dir,
                        merged_cache_dir=tmp_path / "merged")
    metrics = ServerMetrics()
    if cached:
        loading.load(settings, metrics, loading.PhaseTimer(metrics))
    loaded = loading.load(settings, metrics, loading.PhaseTimer(metrics))
    assert loaded.cache_hit is cached
    assert 7 in _eos_ids(loaded.model, loaded.tokenizer)
    assert loaded.max_model_len == 512


def test_weights_are_read_into_memory(tiny_share: TinyModelPaths) -> None:
    state = loading.read_weights(tiny_share.base_dir)
    assert state and all(isinstance(t, torch.Tensor) for t in state.values())
    device, dtype = loading.pick_device_and_dtype(None)
    expected = (torch.device("cuda"), torch.bfloat16) if torch.cuda.is_available() else (device, torch.float32)
    assert (device, dtype) == expected
