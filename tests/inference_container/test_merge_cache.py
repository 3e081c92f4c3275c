"""Merged weights: equal to the unmerged adapter's output, cached, and rebuilt when the cache is corrupt."""

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from devtools.tiny_model import TinyModelPaths
from inference_container import merge_cache
from tests.inference_container.conftest import RunningServer, start_server, stop_server

pytestmark = pytest.mark.slow

PROMPT = "Once upon a time"
NEW_TOKENS = 16


def _local_greedy(model: torch.nn.Module, tokenizer: object) -> str:
    ids = torch.tensor([tokenizer(PROMPT)["input_ids"]])  # type: ignore[operator]
    with torch.inference_mode():
        for _ in range(NEW_TOKENS):
            next_id = model(input_ids=ids).logits[0, -1].argmax()
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
    return str(tokenizer.decode(ids[0, -NEW_TOKENS:], skip_special_tokens=True))  # type: ignore[attr-defined]


def _served_greedy(server: RunningServer, model: str) -> str:
    reply = server.client(max_retries=0).completions.create(
        model=model, prompt=PROMPT, max_tokens=NEW_TOKENS, temperature=0, extra_body={"ignore_eos": True})
    return reply.choices[0].text


def _cache_entry(cache_dir: Path) -> Path:
    (entry,) = [p for p in cache_dir.iterdir() if not p.name.startswith(".")]
    return entry


def test_adapter_id_serves_the_fine_tune_and_base_id_the_base(server: RunningServer, base_model: str,
                                                              tiny_share: TinyModelPaths) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_share.base_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_share.base_dir, dtype=torch.float32).eval()
    base_only = _local_greedy(base, tokenizer)
    unmerged = _local_greedy(PeftModel.from_pretrained(base, tiny_share.adapter_dir).eval(), tokenizer)
    assert unmerged != base_only  # the adapter changes the output, so the two checks below can tell them apart
    adapter_id = next(m.id for m in server.client().models.list() if getattr(m, "parent", None) == base_model)
    assert _served_greedy(server, adapter_id) == unmerged  # merged weights answer as the unmerged PeftModel
    assert _served_greedy(server, base_model) == base_only  # the base id is not answered by the fine-tune


@dataclass
class StartObservation:
    """What one server start showed: its greedy output, cache-hit gauge, timed phases and log."""

    output: str
    cache_hit: float
    phases: set[str]
    log: str


def _start_and_observe(tiny_share: TinyModelPaths, cache_dir: Path, log_path: Path) -> StartObservation:
    server = start_server(log_path, tiny_share, MERGED_CACHE_DIR=str(cache_dir))
    try:
        metrics = httpx.get(f"{server.base_url}/metrics", timeout=10).text
        phases = set(re.findall(r'^inference_startup_phase_seconds\{phase="(\w+)"\}', metrics, re.MULTILINE))
        return StartObservation(_served_greedy(server, "tiny-chat"), server.metric("inference_merged_cache_hit"),
                                phases, server.log())
    finally:
        stop_server(server)


def test_restart_uses_cache_and_corrupt_entry_is_rebuilt(tiny_share: TinyModelPaths, tmp_path: Path) -> None:
    cache_dir = tmp_path / "merged"
    first = _start_and_observe(tiny_share, cache_dir, tmp_path / "first.log")
    assert first.cache_hit == 0
    assert {"read", "adapter", "merge", "cache_write", "warmup"} <= first.phases

    second = _start_and_observe(tiny_share, cache_dir, tmp_path / "second.log")
    assert second.cache_hit == 1
    assert "merge" not in second.phases and "adapter" not in second.phases
    assert "merged cache hit" in second.log
    assert second.output == first.output

    weights = _cache_entry(cache_dir) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    third = _start_and_observe(tiny_share, cache_dir, tmp_path / "third.log")
    assert "is corrupt" in third.log
    assert third.cache_hit == 0 and "merge" in third.phases
    assert third.output == first.output
    entry = _cache_entry(cache_dir)
    manifest = json.loads((entry / "manifest.json").read_text())
    for name, meta in manifest["files"].items():
        assert (entry / name).stat().st_size == meta["size"]


@pytest.fixture
def stored_entry(tiny_share: TinyModelPaths, tmp_path: Path) -> tuple[Path, str]:
    """A cache directory holding one valid entry, and its key."""
    model = AutoModelForCausalLM.from_pretrained(tiny_share.base_dir, dtype=torch.float32)
    key = merge_cache.cache_key(tiny_share.base_dir, tiny_share.adapter_dir)
    assert merge_cache.store_entry(tmp_path / "merged", key, model) is not None
    return tmp_path / "merged", key


def test_valid_entry_loads(stored_entry: tuple[Path, str]) -> None:
    cache_dir, key = stored_entry
    loaded = merge_cache.load_entry(cache_dir, key)
    assert loaded is not None and loaded[1]


@pytest.mark.parametrize("damage", ["missing manifest", "flipped byte", "missing file"])
def test_damaged_entry_is_never_served_and_is_removed(stored_entry: tuple[Path, str], damage: str) -> None:
    cache_dir, key = stored_entry
    weights = cache_dir / key / "model.safetensors"
    if damage == "missing manifest":
        (cache_dir / key / merge_cache.MANIFEST).unlink()
    elif damage == "flipped byte":
        data = bytearray(weights.read_bytes())
        data[-1] ^= 0xFF
        weights.write_bytes(bytes(data))
    else:
        weights.unlink()
    assert merge_cache.load_entry(cache_dir, key) is None
    assert not (cache_dir / key).exists()


def test_cache_key_changes_with_the_adapter(tiny_share: TinyModelPaths, tmp_path: Path) -> None:
    adapter = tmp_path / "adapter"
    shutil.copytree(tiny_share.adapter_dir, adapter)
    before = merge_cache.cache_key(tiny_share.base_dir, adapter)
    config = adapter / "adapter_config.json"
    config.write_text(config.read_text().replace("{", '{"note": "retrained",', 1))
    assert merge_cache.cache_key(tiny_share.base_dir, adapter) != before
