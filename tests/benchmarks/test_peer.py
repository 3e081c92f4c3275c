"""The peer's wiring without starting it: the merged weights, its command line and the request it gets."""

import json
import sys
from pathlib import Path

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from devtools.benchmarks import peer
from devtools.benchmarks.load import Workload
from devtools.tiny_model import TinyModelPaths
from devtools.tiny_model.build import ADAPTER_SUBDIR, BASE_SUBDIR


def _paths(share: Path) -> TinyModelPaths:
    return TinyModelPaths(share, share / BASE_SUBDIR, share / ADAPTER_SUBDIR)


def test_merged_model_gives_the_adapted_logits_and_is_made_once(share_copy: Path) -> None:
    paths = _paths(share_copy)
    assert not peer.is_current(paths)
    merged_dir = peer.merge_adapter(paths)
    assert merged_dir == share_copy / "bench" / "peer-merged" and peer.is_current(paths)
    assert (merged_dir / "tokenizer.json").is_file() and (merged_dir / "chat_template.jinja").is_file()

    ids = torch.tensor([[1, 5, 9, 13, 17]])
    with torch.no_grad():
        merged = AutoModelForCausalLM.from_pretrained(merged_dir)(ids).logits
        base = AutoModelForCausalLM.from_pretrained(paths.base_dir)
        plain = base(ids).logits
        adapted = PeftModel.from_pretrained(base, str(paths.adapter_dir))(ids).logits
    assert torch.allclose(merged, adapted, atol=1e-4)
    assert not torch.allclose(merged, plain, atol=1e-4)  # the adapter changes the output: the check means something

    stamp = (merged_dir / "model.safetensors").stat().st_mtime_ns
    assert peer.merge_adapter(paths) == merged_dir
    assert (merged_dir / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not rewritten


def test_a_changed_adapter_makes_the_merge_stale(share_copy: Path) -> None:
    paths = _paths(share_copy)
    peer.merge_adapter(paths)
    config = paths.adapter_dir / "adapter_config.json"
    config.write_text(config.read_text() + "\n")
    assert not peer.is_current(paths)


def test_command_serves_the_directory_offline_with_continuous_batching(tmp_path: Path) -> None:
    argv, env = peer.command(tmp_path, "cpu")(8123)
    assert argv[:4] == [sys.executable, "-m", "transformers.cli.transformers", "serve"]
    assert argv[4] == str(tmp_path) and "--continuous-batching" in argv
    assert argv[argv.index("--device") + 1] == "cpu" and argv[argv.index("--port") + 1] == "8123"
    assert env["HF_HUB_OFFLINE"] == "1" and env["CUDA_VISIBLE_DEVICES"] == ""
    gpu_argv, _ = peer.command(tmp_path, "cuda")(8123)
    assert gpu_argv[gpu_argv.index("--device") + 1] == "cuda"


def test_peer_request_is_greedy_without_eos_and_without_fields_it_rejects(tmp_path: Path) -> None:
    (tmp_path / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "transformers_version": "5.24.0"}))
    workload = Workload("hi", 64, generation_config=peer.greedy_without_eos(tmp_path))
    body = workload.body("/models/x")
    assert "ignore_eos" not in body and "stream_options" not in body and body["temperature"] == 0.0
    assert json.loads(str(body["generation_config"])) == {
        "bos_token_id": 1, "pad_token_id": 0, "eos_token_id": -1, "do_sample": False}


def test_our_sampled_request_carries_temperature_top_p_and_ignore_eos() -> None:
    body = Workload("hi", 64, temperature=0.7, top_p=0.9).body("m")
    assert (body["temperature"], body["top_p"], body["ignore_eos"]) == (0.7, 0.9, True)
    assert Workload("hi", 64, temperature=0.7).mode == "sampled" and Workload("hi", 64).mode == "greedy"
