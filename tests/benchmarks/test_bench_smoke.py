"""The benchmark harness end to end at a tiny size: our server and the baseline start, stream, show up in the table.

The peer (`transformers serve`) is left out here: its paged KV cache takes most of the machine's free memory
and half a minute to allocate; tests/benchmarks/test_peer.py checks its wiring without starting it.
"""

import json
from pathlib import Path

import pytest

from devtools.benchmarks.__main__ import main
from devtools.benchmarks.run import BASELINE, OURS
from devtools.tiny_model import TinyModelPaths

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # server start-ups are slow on a busy 2-core box


def test_bench_reports_positive_throughput_for_both_servers(
    tiny_share: TinyModelPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Concurrency 1 and 2, 2 requests of 4 tokens each: every row has tokens/s > 0, costs and a ratio to baseline."""
    out = tmp_path / "bench.json"
    share = tiny_share.share_dir
    main(["--concurrency", "1", "2", "--requests-per-client", "1", "--min-requests", "2",
          "--output-tokens", "4", "--no-cold-start", "--share", str(share), "--json", str(out),
          "--only", "ours", "baseline"])

    printed = capsys.readouterr().out
    assert "Throughput" in printed and OURS in printed and BASELINE in printed
    rows = json.loads(out.read_text())["rows"]
    expected = {(OURS, m, c) for m in ("sampled", "greedy") for c in (1, 2)} | {(BASELINE, "greedy", c) for c in (1, 2)}
    assert {(r["server"], r["mode"], r["concurrency"]) for r in rows} == expected
    for row in rows:
        assert row["tokens_per_second"] > 0, row
        assert row["cpu_seconds_per_1k"] > 0 and 0.05 < row["peak_rss_gib"] < 8, row
        assert row["requests"] == 2 and row["output_tokens"] == 8, row
        assert row["ratio_to_baseline"] is not None and row["ratio_to_baseline"] > 0, row
    assert json.loads(out.read_text())["cold_starts"][0]["metrics"]["merged_cache_hit"] == 0.0
    assert {m["server"] for m in json.loads(out.read_text())["memory"]} == {OURS, BASELINE}
    assert "Chart" in printed and out.with_suffix(".svg").read_text().startswith("<svg")
