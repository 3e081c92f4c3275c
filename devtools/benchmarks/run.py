"""The benchmark run: cold starts of our server, then the same closed-loop load on both servers."""

import asyncio
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from devtools.benchmarks import servers
from devtools.benchmarks.bandwidth import BandwidthBound
from devtools.benchmarks.load import LevelResult, Workload, run_level, served_model_id, warm_up
from devtools.benchmarks.report import ColdStart, LevelRow, summarize, with_ratios
from devtools.child_process import ServerProcess
from devtools.tiny_model import TinyModelPaths as ModelPaths

OURS, BASELINE = "inference_container", "baseline (seed-style)"
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
    servers: tuple[str, ...] = (OURS, BASELINE)
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
        return (f"shape={self.shape} device={self.device}; our server's settings: {env}; "
                f"prompt = {self.prompt_sentences} sentences (prompt tokens shown by the servers' usage), "
                f"output with EOS ignored, greedy; levels: {levels}; at most {self.max_seconds_per_level:.0f} s "
                f"of new requests per level; warm-up of one request per client (at most {self.output_tokens} "
                f"tokens) excluded")


@dataclass
class BenchResults:
    """What the run measured."""

    config: BenchConfig
    rows: list[LevelRow] = field(default_factory=list)
    cold_starts: list[ColdStart] = field(default_factory=list)
    prompt_tokens: int = 0
    bound: BandwidthBound | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form of config and results."""
        return asdict(self)


def _load_all(server: ServerProcess, config: BenchConfig, workload: Workload,
              model: str | None) -> list[LevelResult]:
    async def go() -> list[LevelResult]:
        levels = []
        for level in config.levels():
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
    print(f"  {server}: {row.concurrency} clients x {row.max_tokens} tokens: {row.tokens_per_second:.1f} tok/s, "
          f"TTFT p50 {row.ttft_p50_ms:.0f} ms, {row.requests} requests in {row.seconds:.1f} s", flush=True)


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
                    for level in _load_all(server, config, workload, model):
                        _record(results, OURS, level)


def run_baseline(config: BenchConfig, paths: ModelPaths, workload: Workload, results: BenchResults) -> None:
    """Start the seed-style server and load it."""
    command = servers.baseline(paths.base_dir, paths.adapter_dir, config.device)
    with servers.serve(BASELINE, command) as server:
        print(f"  {BASELINE}: ready in {server.seconds_to_ready:.1f} s", flush=True)
        unauthenticated = Workload(workload.prompt, workload.output_tokens, api_key=None)
        for level in _load_all(server, config, unauthenticated, None):
            _record(results, BASELINE, level)


def _record(results: BenchResults, server: str, level: LevelResult) -> None:
    results.rows.append(summarize(server, level))
    prompt = max((r.prompt_tokens for r in level.requests), default=0)
    results.prompt_tokens = max(results.prompt_tokens, prompt)


def run(config: BenchConfig, paths: ModelPaths) -> BenchResults:
    """Run the configured servers one after the other (never at once: they would share the CPU)."""
    workload = Workload(PROMPT_SENTENCE * config.prompt_sentences, config.output_tokens, config.api_key)
    results = BenchResults(config)
    if OURS in config.servers:
        run_ours(config, paths, workload, results)
    if BASELINE in config.servers:
        run_baseline(config, paths, workload, results)
    order = sorted(results.rows, key=lambda r: (r.max_tokens, r.concurrency, r.server != BASELINE))
    results.rows = with_ratios(order, BASELINE)
    return results
