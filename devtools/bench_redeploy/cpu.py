"""How much of the machine other work took while a scenario ran (the dev box's 2 cores are shared).

Ours: this process (the clients) and every process whose working directory is under the run's temp root — the
devhost (the app copy), the app's supervisor and its inference servers (the share). Their CPU is sampled every
`SAMPLE_SECONDS`, so a server that exits mid-scenario (a restart, a drained blue) still counts up to its last sample.
"""

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.5


def busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


@dataclass
class CpuMeter:
    """Share of all cores that processes other than ours used between `start` and `stop`."""

    root: Path
    _baseline: dict[int, float] = field(default_factory=dict)
    _last: dict[int, float] = field(default_factory=dict)
    _busy: float = 0.0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _wall: float = 0.0

    def _ours(self) -> dict[int, float]:
        root, seconds = str(self.root.resolve()), {}
        for process in psutil.process_iter():
            try:
                if process.pid == os.getpid() or process.cwd().startswith(root):
                    times = process.cpu_times()
                    seconds[process.pid] = times.user + times.system
            except psutil.Error:
                continue
        return seconds

    def _sample(self) -> None:
        while not self._stopping.wait(SAMPLE_SECONDS):
            self._last.update(self._ours())

    def start(self) -> None:
        self._baseline = self._ours()
        self._last = dict(self._baseline)
        self._busy, self._wall = busy_seconds(), time.monotonic()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """The other processes' share (0-1) of all cores since `start`."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self._last.update(self._ours())
        ours = sum(seconds - self._baseline.get(pid, 0.0) for pid, seconds in self._last.items())
        wall = time.monotonic() - self._wall
        other = busy_seconds() - self._busy - ours
        return max(0.0, other) / max(wall * (os.cpu_count() or 1), 1e-9)
