"""Ratios against the baseline and the peer, the goals, the memory table and the chart, from made-up rows."""

import os
from pathlib import Path

from devtools.benchmarks import chart
from devtools.benchmarks.report import (
    LevelRow,
    ServerMemory,
    format_goals,
    format_memory,
    format_table,
    with_ratios,
)
from devtools.benchmarks.tree import TreeMeter, high_water_rss_bytes

OURS, BASE, PEER = "ours", "base", "peer"


def _row(server: str, mode: str, clients: int, tok_s: float, ttft: float = 50.0, p99: float = 80.0,
         tokens: int = 64) -> LevelRow:
    return LevelRow(server=server, concurrency=clients, max_tokens=tokens, requests=16, output_tokens=1024,
                    seconds=1.0, tokens_per_second=tok_s, ttft_p50_ms=ttft, ttft_p99_ms=p99, latency_p50_ms=100.0,
                    mode=mode, cpu_seconds_per_1k=1.5, peak_rss_gib=0.4)


def _rows() -> list[LevelRow]:
    rows = []
    for clients, base, peer, sampled, greedy in ((1, 100, 300, 500, 520), (8, 150, 1500, 3100, 3200),
                                                 (32, 160, 1800, 2700, 3000)):
        rows += [_row(BASE, "greedy", clients, base, 900, 2000), _row(PEER, "greedy", clients, peer, 60, 90),
                 _row(OURS, "sampled", clients, sampled, 40, 100 if clients == 32 else 70),
                 _row(OURS, "greedy", clients, greedy, 40, 70)]
    rows.append(_row(OURS, "sampled", 8, 900, tokens=1024))
    rows.append(_row(PEER, "greedy", 8, 300, tokens=1024))
    return with_ratios(rows, BASE, PEER)


def test_ratios_compare_the_same_clients_and_tokens() -> None:
    rows = {(r.server, r.mode, r.concurrency, r.max_tokens): r for r in _rows()}
    assert rows[(OURS, "sampled", 8, 64)].ratio_to_peer == 3100 / 1500
    assert rows[(OURS, "greedy", 32, 64)].ratio_to_baseline == 3000 / 160
    assert rows[(OURS, "sampled", 8, 1024)].ratio_to_peer == 3.0
    assert rows[(OURS, "sampled", 8, 1024)].ratio_to_baseline is None  # the baseline ran no such level
    table = format_table(list(rows.values()))
    assert "vs peer" in table and "2.07x" in table and "CPU-s/1k" in table


def test_peer_goals_pass_and_miss_as_measured() -> None:
    goals = format_goals(_rows(), OURS, BASE, 64, PEER).splitlines()
    assert "PASS  tokens/s at 8 clients >= 2x peer (our sampled vs its greedy): 2.07x" in goals
    assert "MISS  tokens/s at 32 clients >= 2x peer (our sampled vs its greedy): 1.50x" in goals
    assert any(g.startswith("MISS  TTFT p50/p99 at 32 clients (sampled)") for g in goals)  # p99 100 > 90
    assert any(g.startswith("PASS  TTFT p50/p99 at 32 clients (greedy)") for g in goals)
    assert sum("TTFT p50/p99" in g for g in goals) == 6  # 3 levels x 2 modes, 64-token rows only
    assert any(g.startswith("PASS  tokens/s at 32 clients >= 15x baseline (greedy)") for g in goals)


def test_goals_without_a_peer_leave_out_its_lines() -> None:
    rows = [r for r in _rows() if r.server != PEER]
    assert "peer" not in format_goals(rows, OURS, BASE, 64, None)


def test_chart_draws_every_row_and_server_and_saves_an_svg(tmp_path: Path) -> None:
    memory = [ServerMemory(OURS, 0.4, 0.45), ServerMemory(PEER, 6.0, 6.5)]
    picture = chart.chart(_rows(), memory)
    lines = picture.plain.splitlines()
    assert "8 clients x 1024 tokens" in lines
    longest = max(len(line) for line in lines)
    assert longest <= chart.CHART_WIDTH
    peer_memory = next(line for line in lines if line.strip().startswith(PEER) and "GiB" in line)
    assert peer_memory.count("█") == chart.BAR_WIDTH  # the largest bar is full width
    saved = chart.save_svg(picture, tmp_path / "out" / "bench.svg")
    assert saved.read_text().startswith("<svg") and "GiB" in saved.read_text()
    assert "6.50 GiB" in format_memory(memory)


def test_tree_meter_reads_cpu_and_memory_of_a_process() -> None:
    meter = TreeMeter(os.getpid())
    meter.start()
    sum(i * i for i in range(200_000))
    meter.stop()
    assert meter.cpu_seconds >= 0.0 and meter.peak_rss_bytes > 10 * 1024**2
    assert high_water_rss_bytes(os.getpid()) >= 0
