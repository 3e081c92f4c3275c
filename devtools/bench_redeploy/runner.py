"""The run: one local app on devhost, version a deployed, then each redeploy scenario under streaming load."""

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from devtools.bench_redeploy.cpu import CpuMeter
from devtools.bench_redeploy.host import BenchHost, Deploy
from devtools.bench_redeploy.load import LoadClients
from devtools.bench_redeploy.report import ScenarioRow, Window, summarize
from devtools.child_process import log_tail
from devtools.tiny_model import build
from devtools.tiny_model.build import BASE_SUBDIR

APP = "bench-redeploy"
BASE_MODEL = BASE_SUBDIR.as_posix()


@dataclass(frozen=True)
class BenchConfig:
    """Load and timing of every scenario."""

    clients: int = 8
    max_tokens: int = 32
    warm_requests: int = 16  # requests that finish before the deploy starts (at least `warm_seconds` of load)
    warm_seconds: float = 3.0
    tail_requests: int = 8  # requests that start after the deploy ended, then the scenario stops
    pause_after_failure: float = 1.0  # a client that failed waits this long before its next request
    deploy_timeout: float = 300.0


@dataclass(frozen=True)
class Scenario:
    """A redeploy: its name, the body it adds to POST /api/deploy, and what to change before it."""

    name: str
    version: str
    body: dict[str, Any]
    prepare: Callable[[BenchHost], None] | None = None


SCENARIOS = (
    Scenario("adapter only (auto)", "b", {}),
    Scenario("server code (auto)", "c", {}, BenchHost.change_server_code),
    Scenario("adapter only, restart", "d", {"strategy": "restart"}),
)


def log(started: float, message: str) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)


def deploy(host: BenchHost, version: str, body: dict[str, Any], timeout: float) -> Deploy:
    return host.run("deploy", {"app_name": APP, "base_model": BASE_MODEL, "version": version, **body}, timeout)


def run_scenario(host: BenchHost, scenario: Scenario, config: BenchConfig) -> ScenarioRow:
    """Load on, warm up, redeploy, wait for the tail, load off; the row."""
    if scenario.prepare is not None:
        scenario.prepare(host)
    endpoint, api_key = host.app(APP)
    load = LoadClients(endpoint, api_key, clients=config.clients, max_tokens=config.max_tokens, ignore_eos=True,
                       pause_after_failure=config.pause_after_failure)
    meter = CpuMeter(host.root)
    meter.start()
    try:
        with load:
            warm_until = time.monotonic() + config.warm_seconds
            load.wait_for(config.warm_requests, after=0)
            time.sleep(max(0.0, warm_until - time.monotonic()))
            done = deploy(host, scenario.version, scenario.body, config.deploy_timeout)
            load.wait_for(config.tail_requests, after=done.ended)
    finally:
        other_cpu = meter.stop()
    window = Window(done.started, done.ended)
    return summarize(scenario.name, done.strategy, done.status["runtimeStatus"], load.snapshot(), window,
                     scenario.version, done.total_seconds, other_cpu)


def run(config: BenchConfig, scenarios: tuple[Scenario, ...] = SCENARIOS) -> list[ScenarioRow]:
    """Everything in a temp dir; every process it started is stopped before it returns or raises."""
    started = time.monotonic()
    rows: list[ScenarioRow] = []
    with tempfile.TemporaryDirectory(prefix="bench-redeploy-") as tmp:
        host = BenchHost(Path(tmp))
        try:
            build(host.share)
            log(started, "tiny model built; starting devhost")
            host.start()
            provisioned = host.run("provision", {"app_name": APP}, config.deploy_timeout)
            if provisioned.status["runtimeStatus"] != "Completed":
                raise RuntimeError(f"provision failed: {provisioned.status}")
            first = deploy(host, "a", {}, config.deploy_timeout)
            if first.status["runtimeStatus"] != "Completed":
                raise RuntimeError(f"the first deploy failed: {first.status}")
            log(started, f"version a serves ({first.strategy}, {first.total_seconds:.1f} s)")
            for scenario in scenarios:
                row = run_scenario(host, scenario, config)
                rows.append(row)
                log(started, f"{scenario.name}: {row.strategy} {row.result}, {row.requests} requests, "
                    f"{row.failed} failed, deploy {row.deploy_s:.1f} s")
        except BaseException:
            print(f"devhost log (last lines):\n{log_tail(host.log_path)}", flush=True)
            raise
        finally:
            host.stop()
    log(started, "done; devhost, supervisors and servers stopped")
    return rows


def describe(config: BenchConfig) -> dict[str, Any]:
    return {**asdict(config), "app": APP, "base_model": BASE_MODEL, "ignore_eos": True, "temperature": 0}
