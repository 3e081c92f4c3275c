"""Summaries of load levels and the printed tables."""

import math
from dataclasses import dataclass, replace

from devtools.benchmarks.load import LevelResult
from devtools.benchmarks.tree import GIB

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
    mode: str = "greedy"  # greedy or sampled decoding
    cpu_seconds_per_1k: float | None = None  # server CPU seconds per 1,000 output tokens
    peak_rss_gib: float | None = None  # the server's peak resident memory during the level
    ratio_to_peer: float | None = None


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(server: str, level: LevelResult) -> LevelRow:
    """Throughput, latency percentiles and the server's costs of one level."""
    ttfts = [r.ttft * 1000 for r in level.requests]
    cpu_per_1k = (1000 * level.server_cpu_seconds / level.output_tokens
                  if level.server_cpu_seconds is not None and level.output_tokens else None)
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
        mode=level.mode,
        cpu_seconds_per_1k=cpu_per_1k,
        peak_rss_gib=level.peak_rss_bytes / GIB if level.peak_rss_bytes is not None else None,
    )


def with_ratios(rows: list[LevelRow], baseline: str, peer: str | None = None) -> list[LevelRow]:
    """Rows with their tokens/s over the baseline's and the peer's at the same level (clients, tokens)."""

    def reference(server: str | None) -> dict[tuple[int, int], float]:
        return {(r.concurrency, r.max_tokens): r.tokens_per_second for r in rows if r.server == server}

    base, theirs = reference(baseline), reference(peer)
    out = []
    for row in rows:
        key = (row.concurrency, row.max_tokens)
        out.append(replace(row, ratio_to_baseline=_ratio(row.tokens_per_second, base.get(key)),
                           ratio_to_peer=_ratio(row.tokens_per_second, theirs.get(key))))
    return out


def _ratio(value: float, reference: float | None) -> float | None:
    return value / reference if reference else None


def _cell(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def format_table(rows: list[LevelRow]) -> str:
    """A fixed-width text table of the throughput rows."""
    header = (f"{'server':<24} {'mode':<7} {'conc':>4} {'tok/req':>7} {'reqs':>5} {'out tok':>7} {'secs':>6} "
              f"{'tok/s':>8} {'TTFT p50':>9} {'TTFT p99':>9} {'lat p50':>8} {'CPU-s/1k':>8} {'peak GiB':>8} "
              f"{'vs peer':>7} {'vs base':>7} {'other CPU':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        other = f"{100 * r.other_cpu:.0f}%" if r.other_cpu is not None else "-"
        lines.append(
            f"{r.server:<24} {r.mode:<7} {r.concurrency:>4} {r.max_tokens:>7} {r.requests:>5} {r.output_tokens:>7} "
            f"{r.seconds:>6.1f} {r.tokens_per_second:>8.1f} {r.ttft_p50_ms:>7.0f}ms {r.ttft_p99_ms:>7.0f}ms "
            f"{r.latency_p50_ms:>6.0f}ms {_cell(r.cpu_seconds_per_1k, '>8.2f')} {_cell(r.peak_rss_gib, '>8.2f')} "
            f"{_cell(r.ratio_to_peer, '>6.2f', 'x')} {_cell(r.ratio_to_baseline, '>6.2f', 'x')} {other:>9}"
        )
    lines.append("tok/req = output tokens each request asked for; tok/s = completion tokens of all clients / wall "
                 "seconds; CPU-s/1k = CPU seconds of the server's process tree per 1,000 output tokens; peak GiB = "
                 "its peak resident memory during the level; vs peer / vs base = tok/s over the peer's / the "
                 "baseline's at the same clients and tokens (both decode greedily); other CPU = share of all "
                 "cores that processes other than the client and the server used during the level (incl. VM "
                 "steal).")
    busiest = max((r.other_cpu for r in rows if r.other_cpu is not None), default=0.0)
    if busiest > NOISY_OTHER_CPU:
        lines.append(f"WARNING: other work took up to {100 * busiest:.0f}% of the CPU during a level; these "
                     "numbers are skewed by it. Re-run on a quiet machine to compare with other runs.")
    return "\n".join(lines)


@dataclass(frozen=True)
class ServerMemory:
    """A server's peak resident memory: during the measured levels, and over its life (start-up included)."""

    server: str
    levels_peak_gib: float
    lifetime_peak_gib: float


def format_memory(memory: list[ServerMemory]) -> str:
    """One line per server."""
    lines = [f"{'server':<24} {'peak during levels':>19} {'peak incl. start':>17}"]
    lines += [f"{m.server:<24} {m.levels_peak_gib:>15.2f} GiB {m.lifetime_peak_gib:>13.2f} GiB" for m in memory]
    lines.append("resident memory of the server's process tree, sampled every 0.1 s; 'incl. start' also counts "
                 "the root process's kernel high-water mark (VmHWM)")
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


# (concurrency, minimum tokens/s ratio) the project aims for on the 2-core dev machine. Against the baseline,
# our greedy decoding (the baseline decodes greedily); against the peer, our sampling (the peer decodes greedily).
THROUGHPUT_GOALS = ((8, 5.0), (32, 15.0))
PEER_THROUGHPUT_GOALS = ((8, 2.0), (32, 2.0))
TTFT_GOAL_CONCURRENCY = 32


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def format_goals(rows: list[LevelRow], ours: str, baseline: str, max_tokens: int, peer: str | None = None) -> str:
    """PASS/MISS lines for the throughput and TTFT goals that the measured levels of `max_tokens` cover."""
    by_key = {(r.server, r.mode, r.concurrency): r for r in rows if r.max_tokens == max_tokens}
    lines = []
    for concurrency, goal in THROUGHPUT_GOALS:
        row = by_key.get((ours, "greedy", concurrency))
        if row is not None and row.ratio_to_baseline is not None:
            lines.append(f"{_verdict(row.ratio_to_baseline >= goal)}  tokens/s at {concurrency} clients >= "
                         f"{goal:.0f}x baseline (greedy): {row.ratio_to_baseline:.1f}x")
    mine = by_key.get((ours, "greedy", TTFT_GOAL_CONCURRENCY))
    theirs = by_key.get((baseline, "greedy", TTFT_GOAL_CONCURRENCY))
    if mine is not None and theirs is not None:
        lines.append(f"{_verdict(mine.ttft_p50_ms <= theirs.ttft_p50_ms)}  TTFT p50 at {TTFT_GOAL_CONCURRENCY} "
                     f"clients no worse than baseline: {mine.ttft_p50_ms:.0f} ms vs {theirs.ttft_p50_ms:.0f} ms")
    if peer is not None:
        lines += _peer_goals(by_key, ours, peer)
    return "\n".join(lines)


def _peer_goals(by_key: dict[tuple[str, str, int], LevelRow], ours: str, peer: str) -> list[str]:
    """Our sampled tokens/s against the peer's at 8 and 32 clients; our TTFT against its at every level."""
    lines = []
    for concurrency, goal in PEER_THROUGHPUT_GOALS:
        row = by_key.get((ours, "sampled", concurrency))
        if row is not None and row.ratio_to_peer is not None:
            lines.append(f"{_verdict(row.ratio_to_peer >= goal)}  tokens/s at {concurrency} clients >= {goal:.0f}x "
                         f"peer (our sampled vs its greedy): {row.ratio_to_peer:.2f}x")
    for (server, mode, concurrency), mine in sorted(by_key.items(), key=lambda item: (item[0][2], item[0][1])):
        theirs = by_key.get((peer, "greedy", concurrency))
        if server != ours or theirs is None:
            continue
        ok = mine.ttft_p50_ms <= theirs.ttft_p50_ms and mine.ttft_p99_ms <= theirs.ttft_p99_ms
        lines.append(f"{_verdict(ok)}  TTFT p50/p99 at {concurrency} clients ({mode}) no worse than peer: "
                     f"{mine.ttft_p50_ms:.0f}/{mine.ttft_p99_ms:.0f} ms vs "
                     f"{theirs.ttft_p50_ms:.0f}/{theirs.ttft_p99_ms:.0f} ms")
    return lines
