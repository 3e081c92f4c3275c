"""The redeploy benchmark end to end at a tiny size: three redeploys under load, one row each, sane numbers."""

import json
from pathlib import Path

import pytest

from devtools.bench_redeploy.__main__ import main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_bench_redeploy_reports_swap_blue_green_and_restart(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """2 clients of 4 tokens: swap and blue-green drop nothing, every deploy ends and its new version answers."""
    out = tmp_path / "bench-redeploy.json"
    main(["--clients", "2", "--max-tokens", "4", "--warm-requests", "2", "--warm-seconds", "0.5",
          "--tail-requests", "2", "--json", str(out)])

    assert "Redeploys under load" in capsys.readouterr().out
    rows = json.loads(out.read_text())["rows"]
    assert [row["strategy"] for row in rows] == ["swap", "blue_green", "restart"], rows
    for row in rows:
        assert row["result"] == "Completed", row
        assert row["requests"] >= 4 and row["in_window"] >= 1, row
        assert 0 < row["latency_p50_ms"] <= row["latency_p99_ms"], row
        assert row["max_ttft_ms"] > 0, row
        assert row["deploy_s"] > 0, row
        assert 0 < row["new_version_s"] <= row["deploy_s"] + 10, row  # the first reply after the deploy ended
        assert row["longest_gap_s"] > 0 and 0 <= row["other_cpu"] <= 1, row
    swap, blue_green, _ = rows
    assert swap["failed"] == 0 and blue_green["failed"] == 0, rows
