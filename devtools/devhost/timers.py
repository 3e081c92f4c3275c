"""Durable timers: a thread that fires each armed timer at its time."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable

from devtools.devhost.history import utc_now
from devtools.devhost.work_items import TimerWork


class TimerService:
    """Fires TimerWork items through a callback once their fire time has passed."""

    def __init__(self, on_fire: Callable[[TimerWork], None]) -> None:
        self._on_fire = on_fire
        self._heap: list[tuple[float, int, TimerWork]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="timers", daemon=True)

    def start(self) -> None:
        """Start the timer thread."""
        self._thread.start()

    def arm(self, timer: TimerWork) -> None:
        """Schedule a timer (a fire time in the past fires at once)."""
        with self._cond:
            heapq.heappush(self._heap, (timer.fire_at.timestamp(), next(self._counter), timer))
            self._cond.notify()

    def stop(self) -> None:
        """Stop firing timers."""
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _next_due(self) -> TimerWork | None:
        with self._cond:
            while not self._stopped:
                now = utc_now().timestamp()
                if self._heap and self._heap[0][0] <= now:
                    return heapq.heappop(self._heap)[2]
                timeout = self._heap[0][0] - now if self._heap else None
                self._cond.wait(timeout)
            return None

    def _loop(self) -> None:
        while (timer := self._next_due()) is not None:
            self._on_fire(timer)
