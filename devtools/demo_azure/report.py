"""The table the demo ends with: per step, Files requests by operation, bytes uploaded, ARM requests, seconds."""

from collections import Counter

from rich.table import Table

from devtools.demo_azure.meter import StepTraffic


def by_operation(counts: Counter[str]) -> str:
    """`total` then one `operation count` line each, most frequent first."""
    lines = [f"{operation or '(dropped)'} {count}" for operation, count in counts.most_common()]
    return "\n".join([f"[bold]{counts.total()}[/bold]", *lines])


def human_bytes(count: int) -> str:
    """Bytes, with a KiB/MiB figure beside large counts."""
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count:,} ({count / size:.1f} {unit})"
    return f"{count:,}"


def total(steps: list[StepTraffic]) -> StepTraffic:
    """The steps added up."""
    return StepTraffic("total", sum(step.seconds for step in steps), sum((step.files for step in steps), Counter()),
                       sum(step.bytes_uploaded for step in steps), sum((step.arm for step in steps), Counter()))


def traffic_table(steps: list[StepTraffic]) -> Table:
    """One row per measured step, then their total."""
    table = Table(title="Requests to the simulated Azure, per step", show_lines=True)
    table.add_column("step", no_wrap=True)
    table.add_column("Files requests", overflow="fold")
    table.add_column("bytes uploaded", justify="right", no_wrap=True)
    table.add_column("ARM + Container Apps requests", overflow="fold")
    table.add_column("seconds", justify="right")
    for step in [*steps, total(steps)]:
        table.add_row(step.name, by_operation(step.files), human_bytes(step.bytes_uploaded), by_operation(step.arm),
                      f"{step.seconds:.1f}")
    return table
