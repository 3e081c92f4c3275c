"""Real `python -m inference_container` servers on the tiny model, driven over loopback HTTP."""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from devtools.benchmarks import servers
from devtools.tiny_model import TinyModelPaths
from service_settings import FUNCTION_APP_ROOT

API_KEY = "test-key-5f1c0e9a"
READY_TIMEOUT_SECONDS = 180.0


@dataclass
class RunningServer:
    """A started server: where it listens, its log file, its process."""

    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes]
    api_key: str | None

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """The official client pointed at this server."""
        return openai.OpenAI(base_url=f"{self.base_url}/v1", api_key=self.api_key or "unused", **kwargs)

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """The official async client pointed at this server."""
        return openai.AsyncOpenAI(base_url=f"{self.base_url}/v1", api_key=self.api_key or "unused", **kwargs)

    def headers(self) -> dict[str, str]:
        """Authorization header for raw HTTP calls."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def metric(self, sample: str) -> float:
        """Current value of one sample on /metrics, named as exposed (labels included); 0 when absent."""
        for line in httpx.get(f"{self.base_url}/metrics", timeout=10).text.splitlines():
            name, _, value = line.rpartition(" ")
            if name == sample:
                return float(value)
        return 0.0


def start_server(log_path: Path, model: TinyModelPaths, api_key: str | None = None,
                 **env_overrides: str) -> RunningServer:
    """Start `python -m inference_container` and wait for /ready."""
    port = servers.free_port()
    env = {**os.environ, "MODEL_PATH": str(model.base_dir), "ADAPTER_PATH": str(model.adapter_dir),
           "PORT": str(port), "HOST": "127.0.0.1", "CUDA_VISIBLE_DEVICES": "", **env_overrides}
    env.pop("API_KEY", None)
    if api_key:
        env["API_KEY"] = api_key
    log_file = open(log_path, "wb")  # noqa: SIM115  # closed with the process in stop_server
    process = subprocess.Popen([sys.executable, "-m", "inference_container"], cwd=FUNCTION_APP_ROOT, env=env,
                               stdout=log_file, stderr=subprocess.STDOUT)
    server = RunningServer(f"http://127.0.0.1:{port}", log_path, process, api_key)
    try:
        servers.wait_ready(server.base_url, process, log_path, READY_TIMEOUT_SECONDS)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: RunningServer) -> None:
    """Stop the server (SIGTERM, then SIGKILL after a grace period)."""
    servers.stop(server.process)


@pytest.fixture(scope="session")
def server(tiny_share: TinyModelPaths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The shared server: base + adapter, API key required, merge cache enabled, batch of 32."""
    workdir = tmp_path_factory.mktemp("server")
    running = start_server(workdir / "server.log", tiny_share, API_KEY,
                           MERGED_CACHE_DIR=str(workdir / "merged"), MAX_BATCH_SIZE="32")
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def client(server: RunningServer) -> openai.OpenAI:
    """Official OpenAI client for the shared server (no retries, so errors show as they are)."""
    return server.client(max_retries=0)


@pytest.fixture(scope="session")
def base_model(client: openai.OpenAI) -> str:
    """Id of the base model as the server lists it."""
    return next(m.id for m in client.models.list() if getattr(m, "parent", None) is None)
