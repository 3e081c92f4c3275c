"""In-place adapter swap on a real server: under streaming load, gated, refused when unfit, authenticated."""

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from devtools.tiny_model import TinyModelPaths
from inference_container import merge_cache
from tests.inference_container.adapter_versions import break_version, copy_version, publish_version
from tests.inference_container.conftest import API_KEY, RunningServer, start_server, stop_server

pytestmark = pytest.mark.slow

ADMIN_KEY = "admin-key-3d7e21b0"
ALIAS = "tiny-chat-finetuned"
BASE = "tiny-chat"
START_VERSION = "tiny-chat-adapter"  # the id the start-up adapter (…/adapter) gets
PROMPTS = [f"Client {i} says: once upon a time" for i in range(4)]
STREAM_TOKENS = 24
DEADLINE_SECONDS = 120.0


@dataclass
class Versions:
    """Adapter versions published under one share folder."""

    root: Path
    v2: Path
    v3: Path


@pytest.fixture(scope="module")
def versions(tiny_share: TinyModelPaths, tmp_path_factory: pytest.TempPathFactory) -> Versions:
    root = tmp_path_factory.mktemp("serving") / "adapters"
    return Versions(root, publish_version(tiny_share, root, "v2", seed=7),
                    publish_version(tiny_share, root, "v3", seed=11, target_modules=("q_proj", "v_proj"), rank=8))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The swap server's merge cache."""
    return tmp_path_factory.mktemp("swap-cache") / "merged"


@pytest.fixture(scope="module")
def swap_server(tiny_share: TinyModelPaths, tmp_path_factory: pytest.TempPathFactory,
                cache_dir: Path) -> Iterator[RunningServer]:
    """A server with an admin key and a merge cache; each test leaves it serving the start-up version."""
    workdir = tmp_path_factory.mktemp("swap-server")
    running = start_server(workdir / "server.log", tiny_share, API_KEY, ADMIN_API_KEY=ADMIN_KEY,
                           MERGED_CACHE_DIR=str(cache_dir), MAX_BATCH_SIZE="8")
    yield running
    stop_server(running)


def _admin(server: RunningServer, method: str = "POST", key: str | None = ADMIN_KEY,
           **body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.request(method, f"{server.base_url}/admin/adapter", headers=headers, timeout=DEADLINE_SECONDS,
                         json=body or None)


def _swap(server: RunningServer, version: str, path: Path, gate: dict | None = None) -> httpx.Response:
    return _admin(server, version=version, adapter_path=str(path), gate=gate)


def _greedy(server: RunningServer, model: str, prompt: str = PROMPTS[0]) -> tuple[str, str]:
    """Text and system_fingerprint of one greedy completion."""
    reply = server.client(max_retries=0).completions.create(
        model=model, prompt=prompt, max_tokens=STREAM_TOKENS, temperature=0, extra_body={"ignore_eos": True})
    return reply.choices[0].text, str(reply.system_fingerprint)


@pytest.fixture
def at_start_version(swap_server: RunningServer, tiny_share: TinyModelPaths) -> Iterator[RunningServer]:
    """The swap server, put back on the start-up adapter after the test."""
    yield swap_server
    if _admin(swap_server, "GET").json()["version"] != START_VERSION:
        assert _swap(swap_server, START_VERSION, tiny_share.adapter_dir).status_code == 200


# --- auth ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, API_KEY, "wrong-admin-key"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_admin_needs_the_admin_key(swap_server: RunningServer, key: str | None, method: str,
                                   versions: Versions) -> None:
    body = {"version": "v2", "adapter_path": str(versions.v2)} if method == "POST" else {}
    response = _admin(swap_server, method, key, **body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_admin_key"
    assert ADMIN_KEY not in response.text and API_KEY not in response.text
    assert _admin(swap_server, "GET").json()["version"] == START_VERSION


def test_admin_key_does_not_open_v1(swap_server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{swap_server.base_url}/v1", api_key=ADMIN_KEY, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_admin_routes_are_off_without_an_admin_key(server: RunningServer) -> None:
    response = httpx.get(f"{server.base_url}/admin/adapter", headers={"Authorization": f"Bearer {API_KEY}"},
                         timeout=10)
    assert response.status_code == 404
    assert "ADMIN_API_KEY" in response.json()["error"]["message"]


def test_swap_body_is_strict(swap_server: RunningServer, versions: Versions) -> None:
    for body in ({"version": "v2", "adapter_path": "relative/v2"},
                 {"version": "v2", "adapter_path": str(versions.v2), "surprise": 1},
                 {"version": "../v2", "adapter_path": str(versions.v2)},
                 {"version": "v2", "adapter_path": str(versions.v2), "gate": {"prompts": [{"expect": ["x"]}]}}):
        response = _admin(swap_server, **body)
        assert response.status_code == 400, body
    assert _admin(swap_server, "GET").json()["version"] == START_VERSION


# --- versions in replies ------------------------------------------------------------------------------------


def test_models_list_base_version_and_alias_with_version_header(swap_server: RunningServer) -> None:
    response = httpx.get(f"{swap_server.base_url}/v1/models", headers=swap_server.headers(), timeout=10)
    ids = [(m["id"], m.get("parent")) for m in response.json()["data"]]
    assert ids == [(BASE, None), (START_VERSION, BASE), (ALIAS, BASE)]
    assert response.headers["x-adapter-version"] == START_VERSION


def test_replies_and_chunks_name_their_weights(swap_server: RunningServer) -> None:
    for model, expected in ((BASE, "base"), (ALIAS, f"adapter-{START_VERSION}"),
                            (START_VERSION, f"adapter-{START_VERSION}")):
        raw = swap_server.client(max_retries=0).completions.with_raw_response.create(
            model=model, prompt="hi", max_tokens=3, temperature=0)
        assert raw.parse().system_fingerprint == expected
        assert raw.headers["x-adapter-version"] == expected.removeprefix("adapter-")
        with swap_server.client(max_retries=0).chat.completions.with_streaming_response.create(
                model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=3, stream=True,
                stream_options={"include_usage": True}) as streamed:
            assert streamed.headers["x-adapter-version"] == expected.removeprefix("adapter-")
            assert {chunk.system_fingerprint for chunk in streamed.parse()} == {expected}


# --- swap under load ----------------------------------------------------------------------------------------


@dataclass
class StreamRecord:
    """One streamed reply as a client saw it."""

    prompt: str
    started: float
    fingerprints: set[str]
    header: str
    text: str


@dataclass
class Load:
    """Streaming clients that run until told to stop, recording every reply and every failure."""

    server: RunningServer
    model: str
    records: list[StreamRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    async def _client(self, client: openai.AsyncOpenAI, prompt: str) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                async with client.completions.with_streaming_response.create(
                        model=self.model, prompt=prompt, max_tokens=STREAM_TOKENS, temperature=0, stream=True,
                        extra_body={"ignore_eos": True}) as response:
                    header = response.headers["x-adapter-version"]
                    chunks = [chunk async for chunk in await response.parse()]
            except Exception as exc:  # every failure is a finding: collected and asserted empty
                self.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            self.records.append(StreamRecord(prompt, started, {str(c.system_fingerprint) for c in chunks}, header,
                                             "".join(c.choices[0].text for c in chunks if c.choices)))

    async def _run(self) -> None:
        async with self.server.async_client(max_retries=0, timeout=DEADLINE_SECONDS) as client:
            await asyncio.gather(*[self._client(client, prompt) for prompt in PROMPTS])

    def run(self) -> None:
        """Run the clients (in this thread) until `stop` is set."""
        asyncio.run(self._run())


def _wait_until(condition: Any, deadline_seconds: float = DEADLINE_SECONDS) -> bool:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)  # polling interval, bounded by the deadline
    return False


def test_swap_under_streaming_load(at_start_version: RunningServer, versions: Versions, tiny_share: TinyModelPaths,
                                   tmp_path: Path, cache_dir: Path) -> None:
    server = at_start_version
    before = {p: _greedy(server, ALIAS, p)[0] for p in PROMPTS}
    base_before = _greedy(server, BASE)
    load = Load(server, ALIAS)
    clients = threading.Thread(target=load.run)
    clients.start()
    try:
        assert _wait_until(lambda: len(load.records) >= 8 or bool(load.failures))
        gate = {"prompts": [{"prompt": "Once upon a time", "expect": []},
                            {"messages": [{"role": "user", "content": "hello"}]}], "deadline_s": 30}
        response = _swap(server, "v2", versions.v2, gate)
        swapped_at = time.monotonic()
        count_at_swap = len(load.records)
        assert _wait_until(lambda: len(load.records) >= count_at_swap + 8 or bool(load.failures))
    finally:
        load.stop.set()
        clients.join(timeout=DEADLINE_SECONDS)
    assert response.status_code == 200, response.text
    body = response.json()
    print(f"\nswap under load: paused {body['paused_s']:.3f}s, load {body['load_s']:.3f}s, "
          f"total {body['total_s']:.3f}s, {len(load.records)} streams")
    assert (body["version"], body["previous_version"]) == ("v2", START_VERSION)
    assert body["gate"]["passed"] and all(e["passed"] and e["reply"] for e in body["gate"]["transcript"])
    assert body["paused_s"] < 5.0
    assert load.failures == []
    after = {p: _greedy(server, ALIAS, p)[0] for p in PROMPTS}
    for record in load.records:
        (fingerprint,) = record.fingerprints  # no stream carries two versions
        assert fingerprint in (f"adapter-{START_VERSION}", "adapter-v2")
        assert record.header == fingerprint.removeprefix("adapter-")
        assert record.text == (before if fingerprint.endswith(START_VERSION) else after)[record.prompt]
        if record.started > swapped_at:
            assert fingerprint == "adapter-v2"
    assert any(r.fingerprints == {f"adapter-{START_VERSION}"} for r in load.records)
    assert any(r.fingerprints == {"adapter-v2"} for r in load.records)
    assert after != before
    assert _greedy(server, BASE) == base_before  # the base view follows the swap
    _check_fresh_server_agrees(cache_dir, versions, tiny_share, tmp_path, after)


def _check_fresh_server_agrees(cache_dir: Path, versions: Versions, tiny_share: TinyModelPaths,
                               tmp_path: Path, swapped: dict[str, str]) -> None:
    """A server started on v2 (with the swap server's merge cache) answers as the swapped one, from the cache."""
    entry = cache_dir / merge_cache.cache_key(tiny_share.base_dir, versions.v2)
    assert _wait_until(entry.is_dir)  # written in the background after the swap
    paths = TinyModelPaths(tiny_share.share_dir, tiny_share.base_dir, versions.v2)
    fresh = start_server(tmp_path / "fresh.log", paths, API_KEY, MERGED_CACHE_DIR=str(cache_dir))
    try:
        assert fresh.metric("inference_merged_cache_hit") == 1.0
        assert {p: _greedy(fresh, "v2", p)[0] for p in PROMPTS} == swapped
    finally:
        stop_server(fresh)
    fresh = start_server(tmp_path / "fresh-no-cache.log", paths, API_KEY)
    try:
        assert {p: _greedy(fresh, "v2", p)[0] for p in PROMPTS} == swapped  # the in-place math, not the cache
    finally:
        stop_server(fresh)


def test_swapped_out_version_id_is_404_and_alias_follows(at_start_version: RunningServer,
                                                         versions: Versions) -> None:
    server = at_start_version
    assert _swap(server, "v3", versions.v3).status_code == 200
    with pytest.raises(openai.NotFoundError) as caught:
        _greedy(server, START_VERSION)
    assert all(name in str(caught.value) for name in (BASE, "v3", ALIAS))
    assert _greedy(server, "v3") == _greedy(server, ALIAS)
    assert _greedy(server, ALIAS)[1] == "adapter-v3"
    status = _admin(server, "GET").json()
    assert status["version"] == "v3" and status["last_swap"]["result"] == "success"
    assert server.metric('inference_adapter_version_info{version="v3"}') == 1.0


def test_same_adapter_again_under_a_new_version_gives_the_same_output(at_start_version: RunningServer,
                                                                      tiny_share: TinyModelPaths,
                                                                      versions: Versions) -> None:
    server = at_start_version
    before = _greedy(server, ALIAS)[0]
    again = copy_version(tiny_share.adapter_dir, versions.root, "v1-again")
    for version, path in (("v2", versions.v2), ("v3", versions.v3), ("v1-again", again)):
        assert _swap(server, version, path).status_code == 200
    assert _greedy(server, ALIAS) == (before, "adapter-v1-again")  # no drift after several round trips


# --- refusals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["missing", "corrupt", "shapes", "config"])
def test_unfit_adapter_is_422_and_the_old_version_keeps_serving(at_start_version: RunningServer,
                                                                versions: Versions, how: str) -> None:
    server = at_start_version
    before, base_before = _greedy(server, ALIAS), _greedy(server, BASE)
    failed_before = server.metric('inference_adapter_swaps_total{result="adapter_load_failed"}')
    response = _swap(server, f"bad-{how}", break_version(versions.v2, versions.root, f"bad-{how}", how))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "adapter_load_failed" and f"bad-{how}" in error["message"]
    assert _greedy(server, ALIAS) == before and _greedy(server, BASE) == base_before
    assert _admin(server, "GET").json()["version"] == START_VERSION
    assert server.metric('inference_adapter_swaps_total{result="adapter_load_failed"}') == failed_before + 1


def test_missing_adapter_directory_is_422(at_start_version: RunningServer, versions: Versions) -> None:
    response = _swap(at_start_version, "v9", versions.root / "v9")
    assert response.status_code == 422
    assert "does not exist" in response.json()["error"]["message"]


def test_failed_gate_swaps_back_with_the_transcript(at_start_version: RunningServer, versions: Versions) -> None:
    server = at_start_version
    before, base_before = _greedy(server, ALIAS), _greedy(server, BASE)
    gate = {"prompts": [{"prompt": "Once upon a time", "expect": ["zebra-never-said"]},
                        {"prompt": "hello", "expect": []}], "max_tokens": 8}
    response = _swap(server, "v2", versions.v2, gate)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"]["type"] == "gate_failed"
    first, second = body["gate"]["transcript"]
    assert body["gate"]["passed"] is False
    assert first["passed"] is False and "zebra-never-said" in first["reason"] and first["reply"]
    assert second["passed"] is True and second["seconds"] >= 0
    assert _greedy(server, ALIAS) == before and _greedy(server, BASE) == base_before
    assert _admin(server, "GET").json()["last_swap"]["result"] == "gate_failed"
    models = [m.id for m in server.client(max_retries=0).models.list()]
    assert models == [BASE, START_VERSION, ALIAS]


def test_second_swap_while_one_drains_is_409(at_start_version: RunningServer, versions: Versions) -> None:
    """A long request keeps the first swap draining; a second swap meanwhile is refused."""
    server = at_start_version
    body = {"model": ALIAS, "prompt": "long", "max_tokens": 3000, "ignore_eos": True, "stream": True}
    first: list[httpx.Response] = []
    with httpx.stream("POST", f"{server.base_url}/v1/completions", json=body, headers=server.headers(),
                      timeout=DEADLINE_SECONDS) as long_stream:
        lines = long_stream.iter_lines()
        next(lines)  # it runs
        swapping = threading.Thread(target=lambda: first.append(_swap(server, "v2", versions.v2)))
        swapping.start()
        assert _wait_until(lambda: _admin(server, "GET").json()["swap_in_progress"] == "v2")
        second = _swap(server, "v3", versions.v3)
        assert second.status_code == 409 and second.json()["error"]["type"] == "swap_in_progress"
    swapping.join(timeout=DEADLINE_SECONDS)  # the long stream's client left: the batch drains, the swap goes on
    assert first and first[0].status_code == 200, first

