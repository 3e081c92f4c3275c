"""Closed-loop streaming load: N clients, each sends its next request as soon as its last one finished."""

import asyncio
import json
import time
from dataclasses import dataclass, field

import httpx

from devtools.benchmarks.cpu import CpuMeter
from devtools.benchmarks.tree import TreeMeter


@dataclass(frozen=True)
class Workload:
    """What every request asks for: the same prompt, the same number of output tokens, EOS ignored.

    `temperature` 0 is greedy decoding; above 0 the server samples (with `top_p`). `generation_config` is
    for `transformers serve`, which answers 422 to fields it does not know (`ignore_eos`) and ignores
    `stream_options` (it sends usage anyway): where set, the body carries this JSON text instead of both.
    """

    prompt: str
    output_tokens: int
    api_key: str | None = None
    temperature: float = 0.0
    top_p: float = 1.0
    generation_config: str | None = None

    @property
    def mode(self) -> str:
        """`greedy` or `sampled`."""
        return "greedy" if self.temperature == 0 else "sampled"

    def body(self, model: str | None) -> dict[str, object]:
        """The chat request body; `ignore_eos` is vLLM's extra field, honoured by our server and the baseline."""
        body: dict[str, object] = {
            "model": model,
            "messages": [{"role": "user", "content": self.prompt}],
            "max_tokens": self.output_tokens,
            "temperature": self.temperature,
            "stream": True,
        }
        if self.temperature > 0:
            body["top_p"] = self.top_p
        if self.generation_config is not None:
            body["generation_config"] = self.generation_config
        else:
            body["stream_options"] = {"include_usage": True}
            body["ignore_eos"] = True
        return body


@dataclass
class RequestResult:
    """Timings of one streamed request, in seconds from its start."""

    ttft: float
    latency: float
    completion_tokens: int
    prompt_tokens: int


@dataclass
class LevelResult:
    """All requests of one concurrency level and the wall time they took."""

    concurrency: int
    wall_seconds: float
    requests: list[RequestResult] = field(default_factory=list)
    other_cpu: float | None = None  # share of all cores other processes used meanwhile (see cpu.py)
    max_tokens: int = 0  # output tokens each request asked for
    mode: str = "greedy"  # the workload's decoding: greedy or sampled
    server_cpu_seconds: float | None = None  # CPU the server's process tree used during the level
    peak_rss_bytes: int | None = None  # the server tree's peak resident memory during the level

    @property
    def output_tokens(self) -> int:
        """Completion tokens summed over the level's requests."""
        return sum(r.completion_tokens for r in self.requests)

    @property
    def tokens_per_second(self) -> float:
        """Output tokens per wall-clock second across all clients."""
        return self.output_tokens / self.wall_seconds if self.wall_seconds > 0 else 0.0


async def stream_one(client: httpx.AsyncClient, url: str, body: dict[str, object]) -> RequestResult:
    """Send one streaming chat request; time the first content token and the end of the stream."""
    start = time.perf_counter()
    ttft: float | None = None
    chunks = 0
    usage: dict[str, int] = {}
    async with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            detail = (await response.aread()).decode(errors="replace")[:500]
            raise RuntimeError(f"{url} answered {response.status_code}: {detail}")
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if "error" in chunk:
                raise RuntimeError(f"{url} streamed an error: {chunk['error']}")
            if chunk.get("usage"):
                usage = chunk["usage"]
            choices = chunk.get("choices") or []
            if choices and choices[0].get("delta", {}).get("content"):
                chunks += 1
                if ttft is None:
                    ttft = time.perf_counter() - start
    end = time.perf_counter() - start
    return RequestResult(
        ttft=ttft if ttft is not None else end,
        latency=end,
        completion_tokens=int(usage.get("completion_tokens", chunks)),
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
    )


async def run_level(
    base_url: str, workload: Workload, model: str | None, concurrency: int, requests: int, max_seconds: float,
    server_pid: int | None = None,
) -> LevelResult:
    """Run `requests` requests from `concurrency` closed-loop clients (no new ones after `max_seconds`)."""
    headers = {"Authorization": f"Bearer {workload.api_key}"} if workload.api_key else {}
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    url = f"{base_url}/v1/chat/completions"
    body = workload.body(model)
    results: list[RequestResult] = []
    issued = 0
    meter = CpuMeter(server_pid)
    meter.start()
    tree = TreeMeter(server_pid) if server_pid else None
    if tree is not None:
        tree.start()
    start = time.perf_counter()

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < requests and time.perf_counter() - start < max_seconds:
            issued += 1
            results.append(await stream_one(client, url, body))

    timeout = httpx.Timeout(connect=10.0, read=600.0, write=30.0, pool=600.0)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=timeout) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    wall = time.perf_counter() - start
    other = meter.other_share()
    if tree is not None:
        tree.stop()
    return LevelResult(concurrency, wall, results, other, max_tokens=workload.output_tokens, mode=workload.mode,
                       server_cpu_seconds=tree.cpu_seconds if tree else None,
                       peak_rss_bytes=tree.peak_rss_bytes if tree else None)


async def warm_up(base_url: str, workload: Workload, model: str | None, concurrency: int) -> None:
    """A few requests whose results are thrown away (first-call allocations, lazy compilation)."""
    await run_level(base_url, workload, model, concurrency, requests=concurrency, max_seconds=120.0)


async def served_model_id(base_url: str, api_key: str | None) -> str | None:
    """The model to ask for: the adapter where `/v1/models` lists one (it has a `parent`), else the last id.

    None where the server has no such route (the baseline serves one model whatever the name).
    """
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with httpx.AsyncClient(headers=headers, timeout=30.0) as client:
        response = await client.get(f"{base_url}/v1/models")
    if response.status_code != 200:
        return None
    data = response.json().get("data") or []
    adapters = [m for m in data if m.get("parent")]
    chosen = adapters[0] if adapters else (data[-1] if data else None)
    return str(chosen["id"]) if chosen else None
