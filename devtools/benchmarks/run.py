"""The benchmark run: cold starts of our server, then the same closed-loop load on each server in turn."""

import asyncio
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from devtools.benchmarks import peer, servers, tree
from devtools.benchmarks.bandwidth import BandwidthBound
from devtools.benchmarks.load import LevelResult, Workload, run_level, served_model_id, warm_up
from devtools.benchmarks.report import ColdStart, LevelRow, ServerMemory, summarize, with_ratios
from devtools.child_process import ServerProcess
from devtools.tiny_model import TinyModelPaths as ModelPaths

OURS, BASELINE, PEER = "inference_container", "baseline (seed-style)", "transformers serve (CB)"
SERVER_CHOICES = {"ours": OURS, "peer": PEER, "baseline": BASELINE}  # in the order they run
MODES = ("sampled", "greedy")
PROMPT_SENTENCE = "The server streams tokens to the client and reports usage when the reply is finished. "
DEFAULT_CONCURRENCIES = (1, 8, 32)


@dataclass(frozen=True)
class Level:
    """One load level: closed-loop clients, and the output tokens each of their requests asks for."""

    concurrency: int
    output_tokens: int

    @classmethod
    def parse(cls, text: str) -> "Level":
        """A level written CLIENTSxTOKENS, e.g. `8x1024`."""
        clients, _, tokens = text.lower().partition("x")
        if not (clients.isdigit() and tokens.isdigit() and int(clients) > 0 and int(tokens) > 0):
            raise ValueError(f"want CLIENTSxTOKENS such as 8x1024, got {text!r}")
        return cls(int(clients), int(tokens))


# Long outputs show per-token costs that grow with the output so far (a 64-token level hides them).
LONG_OUTPUT = Level(8, 1024)


@dataclass(frozen=True)
class BenchConfig:
    """Everything that fixes a run; printed before it starts."""

    concurrencies: list[int] = field(default_factory=lambda: list(DEFAULT_CONCURRENCIES))
    requests_per_client: int = 4
    min_requests: int = 16
    output_tokens: int = 64
    prompt_sentences: int = 4
    max_seconds_per_level: float = 60.0
    device: str = "cpu"
    shape: str = "tiny"
    api_key: str | None = "bench-key"
    cold_start: bool = True
    servers: tuple[str, ...] = (OURS, BASELINE, PEER)
    modes: tuple[str, ...] = MODES  # our server's decodings; the baseline and the peer decode greedily
    temperature: float = 0.7  # of the sampled mode
    top_p: float = 0.9
    our_env: dict[str, str] = field(default_factory=dict)  # extra settings for our server (MAX_BATCH_SIZE=…)
    long_levels: list[Level] = field(default_factory=lambda: [LONG_OUTPUT])

    def levels(self) -> list[Level]:
        """The short levels (`concurrencies` at `output_tokens` each), then the long-output ones."""
        return [Level(c, self.output_tokens) for c in self.concurrencies] + self.long_levels

    def requests_at(self, concurrency: int) -> int:
        """Requests measured at one level (warm-up not counted)."""
        return max(self.min_requests, self.requests_per_client * concurrency)

    def describe(self) -> str:
        """One paragraph of the fixed parameters."""
        levels = ", ".join(f"{lv.concurrency} clients x {self.requests_at(lv.concurrency)} requests of "
                           f"{lv.output_tokens} tokens" for lv in self.levels())
        env = " ".join(f"{k}={v}" for k, v in self.our_env.items()) or "defaults"
        modes = " and ".join(m if m == "greedy" else f"sampled (temperature {self.temperature}, top_p "
                             f"{self.top_p})" for m in self.modes)
        return (f"servers: {', '.join(self.servers)}; shape={self.shape} device={self.device}; our server's "
                f"settings: {env}; prompt = {self.prompt_sentences} sentences (prompt tokens shown by the servers' "
                f"usage), output with EOS ignored; our server {modes}, the others greedy; levels: {levels}; "
                f"at most {self.max_seconds_per_level:.0f} s "
                f"of new requests per level; warm-up of one request per client (at most {self.output_tokens} "
                f"tokens) excluded")


@dataclass
class BenchResults:
    """What the run measured."""

    config: BenchConfig
    rows: list[LevelRow] = field(default_factory=list)
    cold_starts: list[ColdStart] = field(default_factory=list)
    memory: list[ServerMemory] = field(default_factory=list)
    prompt_tokens: dict[str, int] = field(default_factory=dict)  # by server: what its usage reported
    bound: BandwidthBound | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form of config and results."""
        return asdict(self)


def _load_all(server: ServerProcess, config: BenchConfig, workloads: list[Workload],
              model: str | None) -> list[LevelResult]:
    """Every level, each with every workload (decoding mode) in turn, a warm-up before each."""
    async def go() -> list[LevelResult]:
        levels = []
        for level in config.levels():
            for workload in workloads:
                load = replace(workload, output_tokens=level.output_tokens)
                brief = replace(workload, output_tokens=min(level.output_tokens, config.output_tokens))
                await warm_up(server.base_url, brief, model, level.concurrency)
                levels.append(await run_level(server.base_url, load, model, level.concurrency,
                                              config.requests_at(level.concurrency), config.max_seconds_per_level,
                                              server.process.pid))
                _progress(server.name, levels[-1])
        return levels

    return asyncio.run(go())


def _progress(server: str, level: LevelResult) -> None:
    """One line per finished level, so a run stopped before its tables still shows what it measured."""
    row = summarize(server, level)
    memory = f", peak {row.peak_rss_gib:.2f} GiB" if row.peak_rss_gib is not None else ""
    print(f"  {server} ({row.mode}): {row.concurrency} clients x {row.max_tokens} tokens: "
          f"{row.tokens_per_second:.1f} tok/s, TTFT p50 {row.ttft_p50_ms:.0f} ms, {row.requests} requests in "
          f"{row.seconds:.1f} s{memory}", flush=True)


def _workloads(config: BenchConfig, base: Workload) -> list[Workload]:
    """Our server's workloads: one per configured mode."""
    sampled = replace(base, temperature=config.temperature, top_p=config.top_p)
    return [sampled if mode == "sampled" else base for mode in config.modes]


def _measure(server: ServerProcess, config: BenchConfig, workloads: list[Workload], model: str | None,
             results: BenchResults) -> None:
    """Load one started server; record its rows and its peak memory (read before it stops)."""
    start = len(results.rows)
    for level in _load_all(server, config, workloads, model):
        _record(results, server.name, level)
    levels_peak = max((r.peak_rss_gib or 0.0 for r in results.rows[start:]), default=0.0)
    lifetime = max(levels_peak, tree.high_water_rss_bytes(server.process.pid) / tree.GIB)
    results.memory.append(ServerMemory(server.name, levels_peak, lifetime))


def run_ours(config: BenchConfig, paths: ModelPaths, workload: Workload, results: BenchResults) -> None:
    """Cold start twice on a fresh merged cache (miss, then hit), then load the second one."""
    # Our server picks CUDA by itself whenever torch sees a GPU; hide it for a CPU run on a GPU box.
    extra = {"CUDA_VISIBLE_DEVICES": ""} if config.device == "cpu" else {}
    extra.update(config.our_env)
    with tempfile.TemporaryDirectory(prefix="bench-merged-") as cache:
        labels = ["cold (cache miss)", "warm (cache hit)"] if config.cold_start else ["started"]
        for index, label in enumerate(labels):
            command = servers.ours(paths.base_dir, paths.adapter_dir, config.api_key, Path(cache), extra)
            with servers.serve(OURS, command) as server:
                metrics = servers.startup_metrics(server.base_url)
                results.cold_starts.append(ColdStart(label, server.seconds_to_ready, metrics))
                print(f"  {OURS} {label}: ready in {server.seconds_to_ready:.1f} s", flush=True)
                if index == len(labels) - 1:
                    model = asyncio.run(served_model_id(server.base_url, config.api_key))
                    _measure(server, config, _workloads(config, workload), model, results)


def run_baseline(config: BenchConfig, paths: ModelPaths, workload: Workload, results: BenchResults) -> None:
    """Start the seed-style server and load it."""
    command = servers.baseline(paths.base_dir, paths.adapter_dir, config.device)
    with servers.serve(BASELINE, command) as server:
        print(f"  {BASELINE}: ready in {server.seconds_to_ready:.1f} s", flush=True)
        _measure(server, config, [replace(workload, api_key=None)], None, results)


def run_peer(config: BenchConfig, paths: ModelPaths, workload: Workload, results: BenchResults) -> None:
    """Merge the adapter into the base (once per share), serve it with `transformers serve`, load it."""
    fresh = not peer.is_current(paths)
    model_dir = peer.merge_adapter(paths)
    print(f"  {PEER}: merged weights {'written to' if fresh else 'reused from'} {model_dir}", flush=True)
    with servers.serve(PEER, peer.command(model_dir, config.device), ready_path=peer.READY_PATH) as server:
        print(f"  {PEER}: ready in {server.seconds_to_ready:.1f} s (its paged KV cache is allocated on the "
              "first request, in the warm-up)", flush=True)
        model = asyncio.run(served_model_id(server.base_url, None))
        greedy = replace(workload, api_key=None, generation_config=peer.greedy_without_eos(model_dir))
        _measure(server, config, [greedy], model, results)


def _record(results: BenchResults, server: str, level: LevelResult) -> None:
    results.rows.append(summarize(server, level))
    prompt = max((r.prompt_tokens for r in level.requests), default=0)
    results.prompt_tokens[server] = max(results.prompt_tokens.get(server, 0), prompt)


RUNNERS = {OURS: run_ours, PEER: run_peer, BASELINE: run_baseline}
ROW_ORDER = {BASELINE: 0, PEER: 1, OURS: 2}


def run(config: BenchConfig, paths: ModelPaths) -> BenchResults:
    """Run the configured servers one after the other (never at once: they would share the CPU)."""
    workload = Workload(PROMPT_SENTENCE * config.prompt_sentences, config.output_tokens, config.api_key)
    results = BenchResults(config)
    for name, runner in RUNNERS.items():
        if name in config.servers:
            runner(config, paths, workload, results)
    order = sorted(results.rows, key=lambda r: (r.max_tokens, r.concurrency, ROW_ORDER.get(r.server, 9), r.mode))
    results.rows = with_ratios(order, BASELINE, PEER)
    return results
