"""The benchmark harness end to end at a tiny size: both servers start, stream, and show up in the table."""

import json
from pathlib import Path

import pytest

from devtools.benchmarks.__main__ import main
from devtools.benchmarks.run import BASELINE, OURS
from devtools.tiny_model import TinyModelPaths

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_bench_reports_positive_throughput_for_both_servers(
    tiny_share: TinyModelPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Concurrency 1 and 2, 2 requests of 4 tokens each: every row has tokens/s > 0 and a ratio to baseline."""
    out = tmp_path / "bench.json"
    share = tiny_share.share_dir
    main(["--concurrency", "1", "2", "--requests-per-client", "1", "--min-requests", "2",
          "--output-tokens", "4", "--no-cold-start", "--share", str(share), "--json", str(out)])

    printed = capsys.readouterr().out
    assert "Throughput" in printed and OURS in printed and BASELINE in printed
    rows = json.loads(out.read_text())["rows"]
    assert {(r["server"], r["concurrency"]) for r in rows} == {(s, c) for s in (OURS, BASELINE) for c in (1, 2)}
    for row in rows:
        assert row["tokens_per_second"] > 0, row
        assert row["requests"] == 2 and row["output_tokens"] == 8, row
        assert row["ratio_to_baseline"] is not None and row["ratio_to_baseline"] > 0, row
    assert json.loads(out.read_text())["cold_starts"][0]["metrics"]["merged_cache_hit"] == 0.0
