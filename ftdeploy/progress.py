"""Showing an orchestration's progress from its customStatus: a live rich display on a terminal, lines elsewhere.

customStatus is `{"step", "step_number", "total_steps", "message", "detail"}`; counts that a step reports (files,
bytes, seconds waited, resources of an ARM deployment) are read from `<what>_done` / `<what>_total` pairs, from
`elapsed_s` with `deadline_s` or `timeout_s`, from `resources: [{"state"}]`, or from a nested
`"progress": {"done", "total", "unit"}`, whichever it sends.
"""

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from ftdeploy.output import Output

STEP_METER = "step"
SUCCEEDED = "Succeeded"


@dataclass(frozen=True)
class Meter:
    """One count a step reports: `done` of `total` `unit` (files, bytes, s)."""

    name: str
    done: float
    total: float
    unit: str

    def amount(self) -> str:
        """`done/total unit`, bytes in MiB."""
        if self.unit == "bytes":
            return f"{self.done / 2**20:.1f}/{self.total / 2**20:.1f} MiB"
        return f"{self.done:g}/{self.total:g} {self.unit}".rstrip()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def meters(custom: dict[str, Any]) -> list[Meter]:
    """The counts in a customStatus besides the step number, in the order the service sent them."""
    found: list[Meter] = []
    for key, value in custom.items():
        total = _number(custom.get(key[: -len("_done")] + "_total")) if key.endswith("_done") else None
        if total is not None and (done := _number(value)) is not None:
            name = key[: -len("_done")]
            found.append(Meter(name, done, total, name))
    elapsed = _number(custom.get("elapsed_s"))
    limit = _number(custom.get("deadline_s", custom.get("timeout_s")))
    if elapsed is not None and limit is not None:
        found.append(Meter("wait", elapsed, limit, "s"))
    resources = custom.get("resources")
    if isinstance(resources, list) and resources:  # an ARM deployment's resources, each with its state
        done_count = sum(1 for item in resources if isinstance(item, dict) and item.get("state") == SUCCEEDED)
        found.append(Meter("resources", done_count, len(resources), "resources"))
    nested = custom.get("progress")
    if isinstance(nested, dict) and (total := _number(nested.get("total"))) is not None:
        done = _number(nested.get("done", nested.get("completed"))) or 0.0
        found.append(Meter("progress", done, total, str(nested.get("unit") or "")))
    return found


def step_line(status: dict[str, Any]) -> str:
    """`[n/N] message`, or what the runtime status says while no step has started (a queued request)."""
    custom = status.get("customStatus")
    runtime = status.get("runtimeStatus")
    if not isinstance(custom, dict) or not custom:
        return "queued: waits for the request before it" if runtime == "Pending" else f"{runtime or 'starting'}"
    if "step_number" not in custom:  # a queued request ("queued behind deploy ..."), a superseded one
        return str(custom.get("message") or custom.get("step") or runtime)
    number, total = custom.get("step_number", "-"), custom.get("total_steps") or "?"  # null: not known yet
    return f"[{number}/{total}] {custom.get('message') or custom.get('step') or ''}".rstrip()


def detail_of(status: dict[str, Any]) -> str:
    """The customStatus detail line (what the step waits for), or ''."""
    custom = status.get("customStatus")
    return str(custom.get("detail") or "") if isinstance(custom, dict) else ""


class Display(Protocol):
    """Something that shows each status polled while waiting."""

    def __enter__(self) -> "Display": ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...

    def show(self, instance_id: str, status: dict[str, Any]) -> None:
        """Show a polled status."""


class LineDisplay:
    """Not a terminal (CI, a log file, a pipe): one stderr line each time the step or its detail changes."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.last = ""

    def __enter__(self) -> "LineDisplay":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        return None

    def show(self, instance_id: str, status: dict[str, Any]) -> None:
        """Print the step line (and detail, counts) when it differs from the last one printed."""
        custom = status.get("customStatus")
        counts = ", ".join(meter.amount() for meter in meters(custom)) if isinstance(custom, dict) else ""
        extras = "; ".join(part for part in (detail_of(status), counts) if part)
        line = f"{instance_id}: {step_line(status)}" + (f" ({extras})" if extras else "")
        if line != self.last:
            self.output.note(line)
            self.last = line


class LiveDisplay:
    """A terminal: a spinner and a bar per count (steps, files, bytes, readiness seconds), the detail below."""

    def __init__(self, output: Output, console: Console | None = None) -> None:
        self.output = output
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
            TextColumn("{task.fields[amount]}", markup=False), TimeElapsedColumn(),
            console=console or output.err,
        )
        self.detail = Text()
        self.live = Live(Group(self.progress, self.detail), console=console or output.err, refresh_per_second=8,
                         transient=True)
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> "LiveDisplay":
        self.live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.live.__exit__(kind, error, trace)

    def _set(self, meter: Meter, description: str) -> None:
        if meter.name not in self.tasks:
            self.tasks[meter.name] = self.progress.add_task(description, total=meter.total, amount="")
        self.progress.update(self.tasks[meter.name], description=description, completed=meter.done,
                             total=meter.total, amount=meter.amount())

    def show(self, instance_id: str, status: dict[str, Any]) -> None:
        """Update the bars from the status and the detail line under them."""
        custom = status.get("customStatus")
        custom = custom if isinstance(custom, dict) else {}
        number = _number(custom.get("step_number")) or 0.0
        total = _number(custom.get("total_steps")) or number + 1  # not known yet: at least one step more
        done = number if custom.get("step") == "done" or status.get("runtimeStatus") == "Completed" else number - 1
        step_meter = Meter(STEP_METER, max(done, 0.0), total, "steps")
        self._set(step_meter, self.output.redact(f"{instance_id} {step_line(status)}"))
        current = meters(custom)
        for meter in current:
            self._set(meter, f"  {meter.name}")
        for name in [name for name in self.tasks if name != STEP_METER and name not in {m.name for m in current}]:
            self.progress.remove_task(self.tasks.pop(name))
        self.detail.plain = self.output.redact(detail_of(status))


def display_for(output: Output) -> Display:
    """A live display when stderr is a terminal, else lines."""
    return LiveDisplay(output) if output.err.is_terminal else LineDisplay(output)
