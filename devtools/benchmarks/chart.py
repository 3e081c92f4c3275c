"""The table drawn as bars: tokens/s per level and each server's peak memory, in the terminal and as an SVG.

Text bars (rich), so no plotting package is needed; `save_svg` writes the same picture as an image file.
"""

import io
from pathlib import Path

from rich.console import Console
from rich.text import Text

from devtools.benchmarks.report import LevelRow, ServerMemory

BAR_WIDTH = 32
LABEL_WIDTH = 34
CHART_WIDTH = LABEL_WIDTH + BAR_WIDTH + 12
STYLES = ("bold green", "cyan", "yellow", "magenta", "blue", "red")


def _bar(value: float, largest: float) -> str:
    """A bar of eighth-blocks, `BAR_WIDTH` long at `largest`."""
    eighths = round(8 * BAR_WIDTH * value / largest) if largest > 0 else 0
    full, rest = divmod(max(eighths, 1 if value > 0 else 0), 8)
    return "█" * full + ("" if rest == 0 else " ▏▎▍▌▋▊▉"[rest])


def _styles(labels: list[str]) -> dict[str, str]:
    return {label: STYLES[i % len(STYLES)] for i, label in enumerate(dict.fromkeys(labels))}


def _line(text: Text, label: str, value: float, largest: float, unit: str, style: str) -> None:
    text.append(f"  {label:<{LABEL_WIDTH - 2}}")
    text.append(_bar(value, largest), style=style)
    text.append(f" {value:,.{1 if value < 10 else 0}f}{unit}\n")


def chart(rows: list[LevelRow], memory: list[ServerMemory]) -> Text:
    """Tokens/s bars grouped by level (clients x tokens), then peak-memory bars, one colour per server."""
    text = Text()
    labels = [f"{r.server} {r.mode}" for r in rows]
    styles = _styles([r.server for r in rows] + [m.server for m in memory])
    levels = list(dict.fromkeys((r.concurrency, r.max_tokens) for r in rows))
    if rows:
        text.append("tokens/s (longer is better)\n", style="bold")
    for concurrency, tokens in levels:
        group = [(label, r) for label, r in zip(labels, rows, strict=True)
                 if (r.concurrency, r.max_tokens) == (concurrency, tokens)]
        largest = max(r.tokens_per_second for _, r in group)
        text.append(f"{concurrency} clients x {tokens} tokens\n")
        for label, row in group:
            _line(text, label, row.tokens_per_second, largest, "", styles[row.server])
    if memory:
        text.append("peak memory, GiB (shorter is better)\n", style="bold")
        largest = max(m.lifetime_peak_gib for m in memory)
        for m in memory:
            _line(text, m.server, m.lifetime_peak_gib, largest, " GiB", styles[m.server])
    return text


def show(picture: Text) -> None:
    """Print the chart on standard output (plain where that is not a terminal)."""
    Console(width=CHART_WIDTH, soft_wrap=True).print(picture, end="")


def save_svg(picture: Text, path: Path, title: str = "make bench") -> Path:
    """Write the chart as an SVG image (rich's terminal rendering) to `path`."""
    console = Console(record=True, width=CHART_WIDTH, file=io.StringIO(), force_terminal=True)
    console.print(picture, end="")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(console.export_svg(title=title), encoding="utf-8")
    return path
