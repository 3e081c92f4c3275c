"""What the clients saw around one redeploy, as one table row; the printed table and the JSON rows."""

import itertools
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from devtools.bench_redeploy.load import Reply
from devtools.benchmarks.report import NOISY_OTHER_CPU, percentile


@dataclass(frozen=True)
class Window:
    """The deploy as the clients' clock saw it: POST sent (start) to the status poll that saw it end (end)."""

    start: float
    end: float


@dataclass(frozen=True)
class ScenarioRow:
    """One redeploy under load."""

    scenario: str
    strategy: str  # what the deploy did (its output), not what was asked
    result: str  # the orchestration's runtimeStatus
    requests: int  # every request of the scenario: warm-up, window and tail
    failed: int  # non-200, connection errors, streams cut before their finish_reason
    in_window: int  # requests that overlapped the deploy (started before its end, ended after its start)
    latency_p50_ms: float  # of the successful requests in the window
    latency_p99_ms: float
    max_ttft_ms: float  # of the requests in the window that got a first token
    new_version_s: float  # deploy start -> first token of the first reply stamped with the new version
    longest_gap_s: float  # longest stretch from the deploy's start to the last reply with no request finishing well
    deploy_s: float  # lastUpdatedTime - createdTime of the deploy's /api/status
    other_cpu: float  # share of all cores that processes not of this run used during the scenario
    failures: dict[str, int] = field(default_factory=dict)  # failed requests by kind


def overlaps(reply: Reply, window: Window) -> bool:
    return reply.started < window.end and reply.ended > window.start


def longest_gap(replies: list[Reply], window: Window) -> float:
    """The longest time from the deploy's start on during which no request succeeded."""
    ends = sorted(reply.ended for reply in replies if not reply.failure and reply.ended > window.start)
    last = max([window.end, *(reply.ended for reply in replies)])
    return max(later - earlier for earlier, later in itertools.pairwise([window.start, *ends, last]))


def first_new_version(replies: list[Reply], window: Window, version: str) -> float:
    """Seconds from the deploy's start to the first token of the first reply of `version`; NaN if none came."""
    times = [reply.first_token or reply.ended for reply in replies if reply.version == version and not reply.failure]
    return min(times) - window.start if times else math.nan


def failure_kind(failure: str) -> str:
    """The error's class, with the HTTP status when there was one: 'InternalServerError 502'."""
    kind, _, detail = failure.partition(":")
    code = re.match(r"\s*Error code: (\d+)", detail)
    return f"{kind} {code.group(1)}" if code else kind


def summarize(scenario: str, strategy: str, result: str, replies: list[Reply], window: Window, version: str,
              deploy_s: float, other_cpu: float) -> ScenarioRow:
    """The row of one scenario from every reply its clients got."""
    window_replies = [reply for reply in replies if overlaps(reply, window)]
    latencies = [(reply.ended - reply.started) * 1000 for reply in window_replies if not reply.failure]
    ttfts = [(reply.first_token - reply.started) * 1000 for reply in window_replies if reply.first_token is not None]
    failed = [reply for reply in replies if reply.failure]
    return ScenarioRow(
        scenario=scenario, strategy=strategy, result=result, requests=len(replies), failed=len(failed),
        in_window=len(window_replies), latency_p50_ms=percentile(latencies, 50),
        latency_p99_ms=percentile(latencies, 99), max_ttft_ms=max(ttfts, default=math.nan),
        new_version_s=first_new_version(replies, window, version), longest_gap_s=longest_gap(replies, window),
        deploy_s=deploy_s, other_cpu=other_cpu, failures=dict(Counter(failure_kind(reply.failure) for reply in failed)),
    )


def _number(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def table(rows: list[ScenarioRow], title: str) -> Table:
    """The rows as a rich table."""
    out = Table(title=title)
    for header in ("scenario", "strategy", "requests", "failed", "in window", "p50 ms", "p99 ms", "max TTFT ms",
                   "new version s", "longest gap s", "deploy s", "other CPU"):
        out.add_column(header, justify="left" if header in ("scenario", "strategy") else "right")
    for row in rows:
        strategy = row.strategy if row.result == "Completed" else f"{row.strategy} ({row.result})"
        out.add_row(row.scenario, strategy, str(row.requests), str(row.failed), str(row.in_window),
                    _number(row.latency_p50_ms, 0), _number(row.latency_p99_ms, 0), _number(row.max_ttft_ms, 0),
                    _number(row.new_version_s), _number(row.longest_gap_s), _number(row.deploy_s),
                    f"{100 * row.other_cpu:.0f}%")
    return out


LEGEND = ("failed = non-200, connection errors and streams cut before their finish_reason (all requests of the "
          "scenario); in window = requests that overlapped the deploy (POST /api/deploy sent -> status seen ended); "
          "p50/p99 = latency of the successful ones; a client waits --pause-after-failure (1 s) before its next "
          "request after a failure, so failed ~ clients x seconds down; new version s = deploy start -> first token "
          "stamped with the new version; longest gap s = longest time after the deploy started with no request "
          "finishing well; deploy s = the deploy's own duration (/api/status); other CPU = share of all cores that "
          "processes not of this run took during the scenario.")


def print_report(rows: list[ScenarioRow], title: str, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:  # a log or a pipe: the whole table, not squeezed into 80 columns
            console = Console(width=170)
    console.print(table(rows, title))
    console.print(LEGEND, style="dim")
    busiest = max((row.other_cpu for row in rows), default=0.0)
    if busiest > NOISY_OTHER_CPU:
        console.print(f"WARNING: other work took up to {100 * busiest:.0f}% of the CPU during a scenario; latencies "
                      "and deploy times are skewed by it. Re-run on a quiet machine to compare.", style="yellow")
    for row in rows:
        if row.failures:
            kinds = ", ".join(f"{kind} x{count}" for kind, count in sorted(row.failures.items()))
            console.print(f"{row.scenario}: failed requests by kind: {kinds}")


def to_json(rows: list[ScenarioRow], config: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready results: the run's settings and one object per row (NaN written as null)."""
    def clean(value: Any) -> Any:
        return None if isinstance(value, float) and math.isnan(value) else value

    return {"config": config, "rows": [{key: clean(value) for key, value in asdict(row).items()} for row in rows]}
