"""Side effects an episode asks for once its results are committed: activity runs and timers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ActivityWork:
    """One activity invocation to run in a worker thread."""

    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input_json: str | None


@dataclass(frozen=True)
class TimerWork:
    """One durable timer to fire at a given moment."""

    instance_id: str
    execution_id: str
    timer_id: int
    fire_at: datetime
