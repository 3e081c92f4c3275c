"""How much of the machine's CPU went to other work while a level ran (Linux /proc; None elsewhere).

The benchmark shares its cores with whatever else runs; a level where other processes took a noticeable
share of the CPU is not comparable with one where they did not, so the table shows that share.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.benchmarks.tree import tree_cpu_seconds

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_seconds() -> float | None:
    """CPU seconds spent busy by all processes on all cores since boot."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def _process_seconds(pid: int) -> float:
    """CPU seconds (user + system, threads included) of one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class CpuMeter:
    """Measures busy CPU outside this process and the server under test (its whole process tree)."""

    server_pid: int | None
    _busy: float | None = None
    _ours: float = 0.0
    _wall: float = 0.0

    def _our_seconds(self) -> float:
        mine = _process_seconds(os.getpid())
        return mine + (tree_cpu_seconds(self.server_pid) if self.server_pid else 0.0)

    def start(self) -> None:
        """Take the first reading."""
        self._busy, self._ours, self._wall = _busy_seconds(), self._our_seconds(), time.monotonic()

    def other_share(self) -> float | None:
        """Fraction (0-1) of all cores used by other processes since `start`, or None without /proc."""
        busy = _busy_seconds()
        if busy is None or self._busy is None:
            return None
        wall = time.monotonic() - self._wall
        other = (busy - self._busy) - (self._our_seconds() - self._ours)
        return max(0.0, other) / max(wall * (os.cpu_count() or 1), 1e-9)
