"""Zero-downtime redeploys through the function app on devhost, local target, under streaming load."""

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.bench_redeploy.load import LoadClients, Reply
from devtools.devhost.process import HostProcess
from targets.local.app_files import AppFiles
from targets.local.process_control import stop_all
from tests.function_app.host import HTTP_TIMEOUT, local_host, run, status

pytestmark = pytest.mark.slow  # drives the function app on a devhost process

APP = "redeploy-one"
BASE_MODEL = "model-cache/local/tiny-chat"


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("redeploy-target")


@pytest.fixture(scope="module")
def host(tiny_share: Any, local_root: Path) -> Iterator[HostProcess]:
    with local_host(tiny_share, local_root, "test-key") as process:
        yield process
    stop_all(local_root / "apps")


@dataclass(frozen=True)
class UnderLoad:
    """A deploy run while clients called the app: its final status, every reply, and when the deploy had finished."""

    final: dict[str, Any]
    replies: list[Reply]
    finished: float  # monotonic, as the replies' times

    def after_switch(self) -> set[str | None]:
        """Versions of the replies that started once the deploy had finished (at least 6 of them)."""
        later = [reply for reply in self.replies if reply.started >= self.finished]
        assert len(later) >= 6, later
        return {reply.version for reply in later}


def deploy_under_load(host: HostProcess, local_root: Path, body: dict[str, Any]) -> UnderLoad:
    """Run a deploy while 3 streaming clients call the app, then wait for 6 replies that start after it."""
    config = AppFiles(local_root / "apps" / APP)
    endpoint = f"http://127.0.0.1:{config.read_spec().port}"  # type: ignore[union-attr]
    with LoadClients(endpoint, config.ensure_api_key(), clients=3) as load:
        load.wait_for(3, after=0)
        final = run(host, "deploy", {"app_name": APP, **body}, timeout=300)
        finished = time.monotonic()
        load.wait_for(6, after=finished)
    return UnderLoad(final, load.snapshot(), finished)


def code_unchanged(final: dict[str, Any]) -> bool:
    """Whether the deploy's code sync found the server code as the serving deploy left it."""
    synced = final["customStatus"]["results"]["sync_code"]
    return bool(synced["files_copied"] == 0 and synced["files_deleted"] == 0)


def history(host: HostProcess) -> list[dict[str, Any]]:
    reply = httpx.get(host.url(f"/api/apps/{APP}/deployments"), params={"code": host.key}, timeout=HTTP_TIMEOUT)
    return list(reply.json()["deployments"])


def test_redeploys_swap_blue_green_and_restart_without_dropping_requests(host: HostProcess, local_root: Path) -> None:
    assert run(host, "provision", {"app_name": APP})["runtimeStatus"] == "Completed"
    first = run(host, "deploy", {"app_name": APP, "base_model": BASE_MODEL, "version": "first"})
    assert first["runtimeStatus"] == "Completed" and first["output"]["strategy"] == "restart"
    assert "first deploy" in first["customStatus"]["results"]["choose_strategy"]["reason"]

    swap = deploy_under_load(host, local_root, {"base_model": BASE_MODEL, "version": "second"})
    swapped, replies = swap.final, swap.replies
    assert swapped["runtimeStatus"] == "Completed", swapped
    if code_unchanged(swapped):  # (in a tree being edited meanwhile, the server code may change: blue-green)
        assert swapped["output"]["strategy"] == "swap", swapped["customStatus"]["results"]
        assert swapped["output"]["revision"] == first["output"]["revision"]
    else:
        assert swapped["output"]["strategy"] == "blue_green"
    assert [reply.failure for reply in replies if reply.failure] == []
    assert {reply.version for reply in replies} <= {"first", "second"}
    assert swap.after_switch() == {"second"}

    share = local_root / "share"
    shutil.copytree(share / BASE_MODEL, share / "model-cache/retrained/tiny-chat")  # new base, same name
    blue_green = deploy_under_load(host, local_root, {"base_model": "model-cache/retrained/tiny-chat",
                                                      "version": "third"})
    green, replies = blue_green.final, blue_green.replies
    assert green["runtimeStatus"] == "Completed", green
    assert green["output"]["strategy"] == "blue_green" and green["output"]["revision"] != first["output"]["revision"]
    assert "the base model" in green["customStatus"]["results"]["choose_strategy"]["reason"]
    assert green["customStatus"]["results"]["smoke_gate"]["passed"] is True
    assert [reply.failure for reply in replies if reply.failure] == []
    assert {reply.version for reply in replies} <= {"second", "third"}
    assert blue_green.after_switch() == {"third"}

    gate = {"prompts": [{"prompt": "Hello", "expect": ["text no tiny model writes"]}], "deadline_s": 30}
    rejected = deploy_under_load(host, local_root, {"base_model": BASE_MODEL, "version": "fourth",
                                                    "strategy": "blue_green", "gate": gate})
    refused, replies = rejected.final, rejected.replies
    assert refused["runtimeStatus"] == "Failed"
    assert "step 'smoke_gate' failed: the smoke gate failed on prompt 'Hello'" in refused["error"]
    assert "no traffic moved" in refused["error"]
    transcript = refused["customStatus"]["results"]["smoke_gate"]["gate"]["transcript"]
    assert transcript[0]["passed"] is False and "text no tiny model writes" in transcript[0]["reason"]
    assert [reply.failure for reply in replies if reply.failure] == []
    assert {reply.version for reply in replies} == {"third"}
    row = next(row for row in history(host) if row["request_id"] == refused["instanceId"])
    assert row["result"] == "failed" and row["strategy"] == "blue_green" and row["gate"]["passed"] is False

    restarted = run(host, "deploy", {"app_name": APP, "base_model": BASE_MODEL, "version": "fourth",
                                     "strategy": "restart"}, timeout=300)
    assert restarted["runtimeStatus"] == "Completed" and restarted["output"]["strategy"] == "restart"
    assert status(host, restarted["instanceId"])["output"]["version"] == "fourth"
