"""Summaries of load levels and the printed tables."""

import math
from dataclasses import dataclass

from devtools.benchmarks.load import LevelResult

NOISY_OTHER_CPU = 0.15  # above this share of the machine used by others, a level is flagged as noisy


@dataclass(frozen=True)
class LevelRow:
    """One line of the throughput table."""

    server: str
    concurrency: int
    max_tokens: int  # output tokens each request asked for
    requests: int
    output_tokens: int
    seconds: float
    tokens_per_second: float
    ttft_p50_ms: float
    ttft_p99_ms: float
    latency_p50_ms: float
    other_cpu: float | None = None
    ratio_to_baseline: float | None = None


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(server: str, level: LevelResult) -> LevelRow:
    """Throughput and latency percentiles of one level."""
    ttfts = [r.ttft * 1000 for r in level.requests]
    return LevelRow(
        server=server,
        concurrency=level.concurrency,
        max_tokens=level.max_tokens,
        requests=len(level.requests),
        output_tokens=level.output_tokens,
        seconds=level.wall_seconds,
        tokens_per_second=level.tokens_per_second,
        ttft_p50_ms=percentile(ttfts, 50),
        ttft_p99_ms=percentile(ttfts, 99),
        latency_p50_ms=percentile([r.latency * 1000 for r in level.requests], 50),
        other_cpu=level.other_cpu,
    )


def with_ratios(rows: list[LevelRow], baseline: str) -> list[LevelRow]:
    """Rows with `ratio_to_baseline` set from the baseline's tokens/s at the same level (clients, tokens)."""
    base = {(r.concurrency, r.max_tokens): r.tokens_per_second for r in rows if r.server == baseline}
    out = []
    for row in rows:
        ref = base.get((row.concurrency, row.max_tokens))
        ratio = row.tokens_per_second / ref if ref else None
        out.append(LevelRow(**{**row.__dict__, "ratio_to_baseline": ratio}))
    return out


def format_table(rows: list[LevelRow]) -> str:
    """A fixed-width text table of the throughput rows."""
    header = (f"{'server':<22} {'conc':>4} {'tok/req':>7} {'reqs':>5} {'out tok':>8} {'secs':>7} {'tok/s':>9} "
              f"{'TTFT p50':>9} {'TTFT p99':>9} {'lat p50':>9} {'vs base':>8} {'other CPU':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        ratio = f"{r.ratio_to_baseline:.2f}x" if r.ratio_to_baseline is not None else "-"
        other = f"{100 * r.other_cpu:.0f}%" if r.other_cpu is not None else "-"
        lines.append(
            f"{r.server:<22} {r.concurrency:>4} {r.max_tokens:>7} {r.requests:>5} {r.output_tokens:>8} "
            f"{r.seconds:>7.2f} {r.tokens_per_second:>9.1f} {r.ttft_p50_ms:>7.1f}ms {r.ttft_p99_ms:>7.1f}ms "
            f"{r.latency_p50_ms:>7.0f}ms {ratio:>8} {other:>9}"
        )
    lines.append("tok/req = output tokens each request asked for; "
                 "tok/s = completion tokens of all clients / wall seconds; other CPU = share of all cores that "
                 "processes other than the client and the server used during the level (incl. VM steal).")
    busiest = max((r.other_cpu for r in rows if r.other_cpu is not None), default=0.0)
    if busiest > NOISY_OTHER_CPU:
        lines.append(f"WARNING: other work took up to {100 * busiest:.0f}% of the CPU during a level; these "
                     "numbers are skewed by it. Re-run on a quiet machine to compare with other runs.")
    return "\n".join(lines)


@dataclass(frozen=True)
class ColdStart:
    """One start of our server: time until /ready answered and the phases it reported."""

    label: str
    seconds_to_ready: float
    metrics: dict[str, float]


def format_cold_starts(starts: list[ColdStart]) -> str:
    """A table of start-up phases, one column per start."""
    keys = sorted({k for s in starts for k in s.metrics})
    width = max([len(k) for k in keys] + [24])
    lines = [f"{'':<{width}} " + " ".join(f"{s.label:>16}" for s in starts)]
    ready = " ".join(f"{s.seconds_to_ready:>16.2f}" for s in starts)
    lines.append(f"{'time to /ready (s)':<{width}} {ready}")
    for key in keys:
        cells = [s.metrics.get(key) for s in starts]
        lines.append(f"{key:<{width}} " + " ".join(f"{c:>16.3f}" if c is not None else f"{'-':>16}"
                                                    for c in cells))
    if not keys:
        lines.append("(the server reported no inference_startup_phase_seconds metrics)")
    return "\n".join(lines)


# (concurrency, minimum tokens/s ratio to the baseline) the project aims for on the 2-core dev machine.
THROUGHPUT_GOALS = ((8, 5.0), (32, 15.0))
TTFT_GOAL_CONCURRENCY = 32


def format_goals(rows: list[LevelRow], ours: str, baseline: str, max_tokens: int) -> str:
    """PASS/MISS lines for the throughput and TTFT goals that the measured levels of `max_tokens` cover."""
    by_key = {(r.server, r.concurrency): r for r in rows if r.max_tokens == max_tokens}
    lines = []
    for concurrency, goal in THROUGHPUT_GOALS:
        row = by_key.get((ours, concurrency))
        if row is not None and row.ratio_to_baseline is not None:
            verdict = "PASS" if row.ratio_to_baseline >= goal else "MISS"
            lines.append(f"{verdict}  tokens/s at {concurrency} clients >= {goal:.0f}x baseline: "
                         f"{row.ratio_to_baseline:.1f}x")
    mine, theirs = by_key.get((ours, TTFT_GOAL_CONCURRENCY)), by_key.get((baseline, TTFT_GOAL_CONCURRENCY))
    if mine is not None and theirs is not None:
        verdict = "PASS" if mine.ttft_p50_ms <= theirs.ttft_p50_ms else "MISS"
        lines.append(f"{verdict}  TTFT p50 at {TTFT_GOAL_CONCURRENCY} clients no worse than baseline: "
                     f"{mine.ttft_p50_ms:.0f} ms vs {theirs.ttft_p50_ms:.0f} ms")
    return "\n".join(lines)
