"""Start a server as a child process, wait until it is ready, read its metrics, stop it."""

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devtools.child_process import Command, ServerProcess, child_env, serving


@contextmanager
def serve(name: str, command_for_port: Callable[[int], Command], ready_timeout: float = 300.0,
          ready_path: str = "/ready") -> Iterator[ServerProcess]:
    """Run a server from the repository root; yield once `ready_path` answers 200, stop it afterwards."""
    with tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False) as handle:
        log = Path(handle.name)
    with serving(name, command_for_port, log, ready_path=ready_path, timeout=ready_timeout) as server:
        yield server
    log.unlink(missing_ok=True)


def ours(model: Path, adapter: Path | None, api_key: str | None, merged_cache: Path | None,
         extra_env: dict[str, str] | None = None) -> Callable[[int], Command]:
    """Command and environment for `python -m inference_container` on a given port."""
    env = {"MODEL_PATH": str(model), "HOST": "127.0.0.1", **(extra_env or {})}
    if adapter:
        env["ADAPTER_PATH"] = str(adapter)
    if api_key:
        env["API_KEY"] = api_key
    if merged_cache:
        env["MERGED_CACHE_DIR"] = str(merged_cache)
    drop = () if api_key else ("API_KEY",)
    return lambda port: ([sys.executable, "-m", "inference_container"], child_env({**env, "PORT": str(port)}, drop))


def baseline(model: Path, adapter: Path | None, device: str) -> Callable[[int], Command]:
    """Command and environment for the seed-style baseline server on a given port."""
    args = [sys.executable, "-m", "devtools.benchmarks.baseline_server", "--model", str(model), "--device", device]
    if adapter:
        args += ["--adapter", str(adapter)]
    return lambda port: ([*args, "--port", str(port)], child_env({}))


def startup_metrics(base_url: str) -> dict[str, float]:
    """`inference_startup_phase_seconds` by phase and `inference_merged_cache_hit`, from /metrics."""
    text = httpx.get(f"{base_url}/metrics", timeout=10.0).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "inference_startup_phase_seconds":
                found[f"phase:{sample.labels.get('phase', '?')}"] = float(sample.value)
            elif sample.name == "inference_merged_cache_hit":
                found["merged_cache_hit"] = float(sample.value)
    return found
