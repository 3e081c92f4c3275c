"""Start a server as a child process, wait until it is ready, read its metrics, stop it."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from service_settings import FUNCTION_APP_ROOT


@dataclass(frozen=True)
class RunningServer:
    """A server child process and what it took to become ready."""

    name: str
    base_url: str
    seconds_to_ready: float
    process: subprocess.Popen[bytes]


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Poll `base_url`/ready until it answers 200; raise (with the log's tail) if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before ready:\n{_tail(log)}")
        try:
            if httpx.get(f"{base_url}/ready", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"server not ready at {base_url}/ready after {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def serve(
    name: str, args: list[str], env: dict[str, str], port: int, ready_timeout: float = 300.0
) -> Iterator[RunningServer]:
    """Run `python <args>` from the repository root with `env` added; yield once /ready answers 200."""
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False) as handle:
        log = Path(handle.name)
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    with log.open("wb") as out:
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, *args], cwd=FUNCTION_APP_ROOT, env=child_env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_ready(base_url, process, log, ready_timeout)
            yield RunningServer(name, base_url, time.monotonic() - start, process)
        finally:
            stop(process)
    log.unlink(missing_ok=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process has not exited after a 20 s grace period."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


Command = tuple[list[str], dict[str, str]]


def ours(model: Path, adapter: Path | None, port: int, api_key: str | None,
         merged_cache: Path | None, extra_env: dict[str, str] | None = None) -> Command:
    """Command and environment for `python -m inference_container`."""
    env = {"MODEL_PATH": str(model), "PORT": str(port), "HOST": "127.0.0.1", **(extra_env or {})}
    if adapter:
        env["ADAPTER_PATH"] = str(adapter)
    if api_key:
        env["API_KEY"] = api_key
    if merged_cache:
        env["MERGED_CACHE_DIR"] = str(merged_cache)
    return ["-m", "inference_container"], env


def baseline(model: Path, adapter: Path | None, port: int, device: str) -> Command:
    """Command and environment for the seed-style baseline server."""
    args = ["-m", "devtools.benchmarks.baseline_server", "--model", str(model), "--port", str(port)]
    args += ["--device", device]
    if adapter:
        args += ["--adapter", str(adapter)]
    return args, {}


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
