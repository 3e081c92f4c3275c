"""Unit-test orchestrators in-process on virtual time: the SDK's real replay, the host's real episodes,
activities replaced by plain functions, timers fired at once by moving a virtual clock.

    result = run_orchestrator(my_orchestrator, {"x": 1}, {"say_hello": lambda name: f"Hi {name}"}, tmp_path)
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.activities import describe_failure
from devtools.devhost.episode import new_instance, start_message
from devtools.devhost.episode_runner import run_episode
from devtools.devhost.history import Event, task_completed, task_failed, timer_fired
from devtools.devhost.store import Message, Store
from devtools.devhost.work_items import ActivityWork, TimerWork

ActivityFake = Callable[[Any], Any]
INSTANCE_ID = "unit-test"


@dataclass
class RunResult:
    """How the orchestration ended (`status` is the runtimeStatus string), what it published, and what it called."""

    status: str
    output: Any
    custom_statuses: list[Any] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    finished_at: datetime | None = None


class VirtualTimeRun:
    """One orchestration instance driven to its end (or until nothing is left to do)."""

    def __init__(self, builder: Any, activities: Mapping[str, ActivityFake], store_dir: Path, start: datetime) -> None:
        built = builder.build()
        self.handle = built.get_user_function()
        self.name = built.get_function_name()
        self.activities = activities
        self.store = Store(store_dir)
        self.now = start
        self.timers: list[tuple[datetime, int, TimerWork]] = []
        self.result = RunResult(status=Status.Pending.value, output=None)

    def _run_activity(self, work: ActivityWork) -> Event:
        value = json.loads(work.input_json) if work.input_json is not None else None
        self.result.calls.append((work.name, value))
        fake = self.activities.get(work.name)
        try:
            if fake is None:
                raise LookupError(f"no fake given for activity {work.name!r}")
            output = json.dumps(fake(value))
        except Exception as exc:
            reason, details = describe_failure(work.name, exc)
            return task_failed(work.task_id, reason, details, self.now)
        return task_completed(work.task_id, output, self.now)

    def _next_message(self) -> Message | None:
        message = self.store.next_message()
        if message is None and self.timers:
            fire_at, _, timer = heapq.heappop(self.timers)
            self.now = max(self.now, fire_at)
            fired = timer_fired(timer.timer_id, fire_at, self.now)
            self.store.enqueue(Message(timer.instance_id, timer.execution_id, fired))
            message = self.store.next_message()
        return message

    def run(self, orchestration_input: Any, max_episodes: int) -> RunResult:
        """Deliver messages until the instance ends; activities run inline, timers advance the clock."""
        instance = new_instance(INSTANCE_ID, self.name, json.dumps(orchestration_input), self.now)
        self.store.create(instance, start_message(instance, self.now))
        for _ in range(max_episodes):
            message = self._next_message()
            current = self.store.get(INSTANCE_ID)
            if message is None or current is None or current.is_terminal:
                break
            episode = run_episode(current, self.store.history(INSTANCE_ID), message, self.handle, self.now)
            self.store.apply(episode.commit)
            if current.custom_status is not None:
                self.result.custom_statuses.append(json.loads(current.custom_status))
            for work in episode.episode.activities:
                self.store.enqueue(Message(work.instance_id, work.execution_id, self._run_activity(work)))
            for timer in episode.episode.timers:
                heapq.heappush(self.timers, (timer.fire_at, timer.timer_id, timer))
        final = self.store.get(INSTANCE_ID)
        assert final is not None
        self.result.status = final.status.value
        self.result.output = json.loads(final.output) if final.output is not None else None
        self.result.finished_at = self.now
        return self.result


def run_orchestrator(builder: Any, orchestration_input: Any, activities: Mapping[str, ActivityFake],
                     store_dir: Path, start: datetime | None = None, max_episodes: int = 10_000) -> RunResult:
    """Run a decorated orchestrator with fake activities on virtual time; return how it ended."""
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    return VirtualTimeRun(builder, activities, store_dir, start).run(orchestration_input, max_episodes)
