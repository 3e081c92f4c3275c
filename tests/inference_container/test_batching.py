"""Concurrency: shared batches keep per-request results, disconnects free slots, a full queue says 429."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from devtools.tiny_model import TinyModelPaths
from tests.inference_container.conftest import RunningServer, start_server, stop_server

pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 60.0


def _poll_until(condition: object, deadline_seconds: float = DEADLINE_SECONDS) -> bool:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)  # polling interval, bounded by the deadline
    return False


async def _stream_text(client: openai.AsyncOpenAI, model: str, prompt: str, disconnect: bool) -> str | None:
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], stream=True, temperature=0,
        max_tokens=400 if disconnect else 8, extra_body={"ignore_eos": True})
    parts: list[str] = []
    finish = None
    async for chunk in stream:
        if disconnect and len(parts) >= 3:
            await stream.close()  # the client goes away mid-stream
            return None
        parts.append(chunk.choices[0].delta.content or "")
        finish = chunk.choices[0].finish_reason
    assert finish == "length"
    return "".join(parts)


async def _hundred_streams(server: RunningServer, model: str) -> list[str | None]:
    async with server.async_client(max_retries=0, timeout=120) as client:
        jobs = [_stream_text(client, model, f"client {i}", disconnect=i % 10 == 0) for i in range(100)]
        return await asyncio.gather(*jobs)


def test_hundred_streams_with_disconnects_all_finish_and_free_slots(server: RunningServer,
                                                                    base_model: str) -> None:
    aborted_before = server.metric('vllm:request_success_total{finished_reason="abort"}')
    results = asyncio.run(_hundred_streams(server, base_model))
    completed = [r for r in results if r is not None]
    assert len(completed) == 90
    assert all(completed)
    assert _poll_until(lambda: server.metric("vllm:num_requests_running") == 0
                       and server.metric("vllm:num_requests_waiting") == 0)
    assert server.metric('vllm:request_success_total{finished_reason="abort"}') - aborted_before == 10


def test_greedy_and_seeded_results_hold_inside_a_shared_batch(client: openai.OpenAI, server: RunningServer,
                                                              base_model: str) -> None:
    adapter = next(m.id for m in client.models.list() if getattr(m, "parent", None) == base_model)
    requests: list[dict[str, Any]] = [  # base and fine-tune rows mixed in one batch
        {"prompt": f"story {i} " * (i + 1), "temperature": 0.0 if i % 2 else 0.9, "seed": i,
         "model": base_model if i % 3 else adapter} for i in range(8)
    ]

    def run(request: dict) -> str:
        reply = client.completions.create(max_tokens=12, top_p=0.9, extra_body={"ignore_eos": True}, **request)
        return reply.choices[0].text

    alone = [run(r) for r in requests]

    async def together() -> list[str]:
        async with server.async_client(max_retries=0) as aclient:
            replies = await asyncio.gather(*[
                aclient.completions.create(max_tokens=12, top_p=0.9, extra_body={"ignore_eos": True}, **r)
                for r in requests])
        return [r.choices[0].text for r in replies]

    assert asyncio.run(together()) == alone
    assert run({**requests[1], "model": adapter}) != alone[1]  # the two ids really run different weights


@pytest.fixture(scope="module")
def tiny_queue_server(tiny_share: TinyModelPaths, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[RunningServer]:
    """A server with one batch slot and no waiting room, so a second request overflows."""
    workdir: Path = tmp_path_factory.mktemp("queue-server")
    running = start_server(workdir / "server.log", tiny_share, MAX_BATCH_SIZE="1", MAX_QUEUE_SIZE="0")
    yield running
    stop_server(running)


async def _flood(server: RunningServer) -> list[httpx.Response]:
    body = {"model": "tiny-chat", "prompt": "flood", "max_tokens": 300, "ignore_eos": True}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as http:
        return await asyncio.gather(*[http.post("/v1/completions", json=body) for _ in range(12)])


def test_single_slot_server_warms_up_both_weights_and_is_ready(tiny_queue_server: RunningServer) -> None:
    """Its two warm-up requests (fine-tune, then base view) take the one slot in turn; none is refused."""
    assert httpx.get(f"{tiny_queue_server.base_url}/ready", timeout=10).status_code == 200
    assert tiny_queue_server.metric('inference_startup_phase_seconds{phase="warmup"}') > 0
    assert "QueueFullError" not in tiny_queue_server.log()


def test_full_queue_answers_429_with_retry_after(tiny_queue_server: RunningServer) -> None:
    responses = asyncio.run(_flood(tiny_queue_server))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) >= 1
    rejected = [r for r in responses if r.status_code == 429]
    assert rejected, statuses
    assert set(statuses) == {200, 429}
    for response in rejected:
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"]["type"] == "rate_limit_error"
    assert httpx.get(f"{tiny_queue_server.base_url}/health", timeout=10).status_code == 200


def test_non_streamed_request_whose_client_leaves_is_cancelled(server: RunningServer, base_model: str) -> None:
    aborted_before = server.metric('vllm:request_success_total{finished_reason="abort"}')
    tokens_before = server.metric("vllm:generation_tokens_total")
    body = {"model": base_model, "prompt": "x", "max_tokens": 500, "ignore_eos": True, "temperature": 0}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.base_url}/v1/completions", json=body, headers=server.headers(), timeout=0.2)
    assert _poll_until(lambda: server.metric('vllm:request_success_total{finished_reason="abort"}')
                       == aborted_before + 1)
    assert server.metric("vllm:num_requests_running") == 0
    assert server.metric("vllm:generation_tokens_total") - tokens_before < 500
