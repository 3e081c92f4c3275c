"""`make demo-azure`'s flow: provision and three deploys through ftdeploy on the simulators, its table, no secret
printed, and nothing left running."""

import io
import re
from pathlib import Path

import psutil
import pytest
from rich.console import Console

from devtools.demo_azure.flow import run_demo
from devtools.demo_azure.report import traffic_table

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_the_demo_measures_each_deploy_prints_no_secret_and_leaves_nothing_running(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    printed = io.StringIO()
    result = run_demo(tmp_path, Console(file=printed, width=160))

    steps = {step.name: step for step in result.steps}
    assert list(steps) == ["provision", "deploy 1: first", "deploy 2: nothing changed", "deploy 3: adapter retrained"]
    first, same, retrained = (steps[name] for name in list(steps)[1:])
    assert first.files["CreateFile"] > 20 and first.bytes_uploaded > 50_000  # the inference code, uploaded once
    assert first.files["CopyFile"] == 3 and first.arm["UpdateContainerApp"] == 1
    assert same.files["CopyFile"] == 0 and same.bytes_uploaded < 2_000  # only the deploy record is written
    assert retrained.files["CopyFile"] == 3 and retrained.bytes_uploaded < 2_000  # copied share-side
    for swapped in (same, retrained):  # only the adapter (or nothing) changed: swapped in place, no ARM write
        assert swapped.arm["UpdateContainerApp"] == 0 and swapped.arm["RestartRevision"] == 0, swapped.arm
    summary = re.compile(r"(deploy \d: [a-z ]+): serving adapter version \S+ on revision (\S+) \(([a-z]+)")
    summaries = {step: (revision, how) for step, revision, how in summary.findall(" ".join(printed.getvalue().split()))}
    revision = summaries["deploy 1: first"][0]
    assert summaries == {"deploy 1: first": (revision, "restarted"), "deploy 2: nothing changed": (revision, "swapped"),
                         "deploy 3: adapter retrained": (revision, "swapped")}, summaries

    table = Console(file=io.StringIO(), width=160, record=True)
    table.print(traffic_table(result.steps))
    text = table.export_text()
    assert "deploy 2: nothing changed" in text and "CreateFile" in text and "UpdateContainerApp" in text

    assert {child.command for child in result.started} == {"devtools.devhost", "inference_container"}
    assert result.left_running == [] and psutil.Process().children(recursive=True) == []

    captured = capfd.readouterr()
    shown = printed.getvalue() + captured.out + captured.err  # ftdeploy's progress included
    assert "Serving adapter" in shown and "A: " in printed.getvalue()
    assert len(result.secrets) >= 4 and not [secret for secret in result.secrets if secret in shown]
