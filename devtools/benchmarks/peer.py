"""The peer: `transformers serve --continuous-batching` (paged attention, one batch across requests).

It serves a plain model directory, so it gets the same weights our server serves: the base with the LoRA
adapter merged in (peft's `merge_and_unload`), written once under the share and reused while the base and
adapter files are unchanged. It runs offline (`HF_HUB_OFFLINE=1`) on a local path, which is also the model
id it lists and accepts.

Its chat route rejects fields it does not know (`ignore_eos`), and its continuous-batching manager takes its
sampling settings from the first request it sees and keeps them: the benchmark sends it greedy requests
only, with EOS switched off through the `generation_config` field (`eos_token_id` -1 never matches a token).
"""

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from devtools.child_process import Command, child_env
from devtools.tiny_model import TinyModelPaths as ModelPaths
from targets.local.ports import LOOPBACK

MERGED_SUBDIR = Path("bench") / "peer-merged"
MARKER = "merged-from.json"
READY_PATH = "/health"


def _fingerprint(paths: ModelPaths) -> dict[str, object]:
    """What the merged copy was made from: the two directories and their files' sizes and mtimes."""
    files = {}
    for directory in (paths.base_dir, paths.adapter_dir):
        for item in sorted(directory.iterdir()):
            if item.is_file():
                stat = item.stat()
                files[str(item)] = [stat.st_size, stat.st_mtime_ns]
    return {"base": str(paths.base_dir), "adapter": str(paths.adapter_dir), "files": files}


def merged_dir(paths: ModelPaths) -> Path:
    """Where the merged model lives in the share."""
    return paths.share_dir / MERGED_SUBDIR


def is_current(paths: ModelPaths) -> bool:
    """Whether the share holds a merged copy made from the present base and adapter files."""
    marker = merged_dir(paths) / MARKER
    return marker.is_file() and json.loads(marker.read_text()) == _fingerprint(paths)


def merge_adapter(paths: ModelPaths) -> Path:
    """The base with the adapter merged in, as a plain model directory (made once, then reused)."""
    target = merged_dir(paths)
    if is_current(paths):
        return target
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(paths.base_dir, dtype="auto")
    merged = PeftModel.from_pretrained(base, str(paths.adapter_dir)).merge_and_unload()
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    merged.save_pretrained(partial)
    AutoTokenizer.from_pretrained(paths.base_dir).save_pretrained(partial)
    (partial / MARKER).write_text(json.dumps(_fingerprint(paths), indent=2))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def greedy_without_eos(model_dir: Path) -> str:
    """The `generation_config` request field: the model's own config, greedy, EOS never matching."""
    saved = model_dir / "generation_config.json"
    config = json.loads(saved.read_text()) if saved.is_file() else {}
    kept = {k: v for k, v in config.items() if not k.startswith("_") and k != "transformers_version"}
    return json.dumps({**kept, "do_sample": False, "eos_token_id": -1})


def command(model_dir: Path, device: str) -> Callable[[int], Command]:
    """`transformers serve MODEL_DIR --continuous-batching` on a given port, offline."""
    args = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(model_dir),
            "--continuous-batching", "--device", device, "--host", LOOPBACK, "--log-level", "warning"]
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    return lambda port: ([*args, "--port", str(port)], child_env(env))
