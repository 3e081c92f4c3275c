"""A server's process tree (the process and its descendants): CPU seconds and resident memory, via psutil.

Peak memory is sampled (every `SAMPLE_SECONDS`) while a level runs, summed over the tree; the kernel's own
high-water mark of the root process (`VmHWM`, Linux) also counts, so a peak between two samples or during the
start-up is not missed.
"""

import threading
from dataclasses import dataclass, field

import psutil

SAMPLE_SECONDS = 0.1
GIB = 1024**3


def _tree(pid: int) -> list[psutil.Process]:
    """The process and its live descendants (empty once it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of the process and its descendants, summed."""
    total = 0
    for process in _tree(pid):
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process and its live descendants have used so far."""
    total = 0.0
    for process in _tree(pid):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def high_water_rss_bytes(pid: int) -> int:
    """The kernel's peak resident set size of one process (`VmHWM`); 0 where /proc does not say."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class TreeMeter:
    """CPU seconds and peak resident memory of a process tree between `start` and `stop`."""

    pid: int
    peak_rss_bytes: int = 0
    cpu_seconds: float = 0.0
    _cpu_at_start: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Take the CPU reading and start sampling memory on a daemon thread."""
        self._cpu_at_start = tree_cpu_seconds(self.pid)
        self.peak_rss_bytes = tree_rss_bytes(self.pid)
        self._thread = threading.Thread(target=self._sample, name=f"tree-meter-{self.pid}", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak_rss_bytes = max(self.peak_rss_bytes, tree_rss_bytes(self.pid))

    def stop(self) -> "TreeMeter":
        """Stop sampling; `cpu_seconds` and `peak_rss_bytes` then hold the interval's figures."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_rss_bytes = max(self.peak_rss_bytes, tree_rss_bytes(self.pid))
        self.cpu_seconds = tree_cpu_seconds(self.pid) - self._cpu_at_start
        return self
