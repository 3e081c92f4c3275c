"""Real `python -m inference_container` servers on the tiny model, driven over loopback HTTP."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from devtools.benchmarks import servers
from devtools.child_process import ServerProcess
from devtools.child_process import start_server as start_inference_server
from devtools.tiny_model import TinyModelPaths

API_KEY = "test-key-5f1c0e9a"
REVISION = "tiny-chat--7"
READY_TIMEOUT_SECONDS = 180.0


@dataclass
class RunningServer:
    """A started inference server and the API key it requires, with the clients tests use on it."""

    process: ServerProcess
    api_key: str | None

    @property
    def base_url(self) -> str:
        """Where the server answers."""
        return self.process.base_url

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.process.log()

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
    """Start `python -m inference_container` on the CPU and wait for /ready."""
    command = servers.ours(model.base_dir, model.adapter_dir, api_key, None,
                           {"CUDA_VISIBLE_DEVICES": "", **env_overrides})
    return RunningServer(start_inference_server("inference", command, log_path, timeout=READY_TIMEOUT_SECONDS),
                         api_key)


def stop_server(server: RunningServer) -> None:
    """Stop the server (SIGTERM, then SIGKILL after a grace period)."""
    server.process.stop()


@pytest.fixture(scope="session")
def server(tiny_share: TinyModelPaths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The shared server: base + adapter, API key required, merge cache enabled, batch of 32, revision set."""
    workdir = tmp_path_factory.mktemp("server")
    running = start_server(workdir / "server.log", tiny_share, API_KEY,
                           MERGED_CACHE_DIR=str(workdir / "merged"), MAX_BATCH_SIZE="32",
                           CONTAINER_APP_REVISION=REVISION)
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
