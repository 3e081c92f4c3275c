"""Unit-test orchestrators in-process on virtual time: the SDK's real replay, the host's real episodes,
activities replaced by plain functions, timers fired at once by moving a virtual clock.

    result = run_orchestrator(my_orchestrator, {"x": 1}, {"say_hello": lambda name: f"Hi {name}"}, tmp_path)
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.activities import describe_failure
from devtools.devhost.episode import new_instance, start_message
from devtools.devhost.episode_runner import run_batch_episode, run_episode
from devtools.devhost.history import (
    Event,
    event_raised,
    sub_orchestration_completed,
    sub_orchestration_failed,
    task_completed,
    task_failed,
    timer_fired,
)
from devtools.devhost.store import Instance, Message, Store
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

    def _answer_child(self, start: Message) -> None:
        """A sub-orchestration the instance started: answered by the fake named like its orchestrator."""
        child = self.store.get(start.instance_id)
        assert child is not None and child.parent_instance_id and child.parent_execution_id
        assert child.parent_task_id is not None and start.msg_id is not None
        self.store.drop_message(start.msg_id)
        value = json.loads(child.input) if child.input is not None else None
        self.result.calls.append((child.name, value))
        fake = self.activities.get(child.name)
        try:
            if fake is None:
                raise LookupError(f"no fake given for sub-orchestration {child.name!r}")
            event = sub_orchestration_completed(child.parent_task_id, json.dumps(fake(value)), self.now)
        except Exception as exc:
            reason = f"Sub-orchestration '{child.name}' failed: {exc}"
            event = sub_orchestration_failed(child.parent_task_id, reason, "", self.now)
        self.store.enqueue(Message(child.parent_instance_id, child.parent_execution_id, event))

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
            if message is not None and message.instance_id != INSTANCE_ID:
                self._answer_child(message)
                continue
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


@dataclass
class Child:
    """A sub-orchestration the driven orchestrator started: its id, orchestrator name, input, parent's task id."""

    instance_id: str
    name: str
    input: Any
    task_id: int


class EpisodeDriver:
    """Drive one orchestration episode by episode, the test deciding what arrives together: external events
    (several in one episode, as a batch of messages), children's results, timers. No activities run; the
    sub-orchestrations it starts are recorded and finished by the test.

        driver = EpisodeDriver(my_orchestrator)
        driver.start({"x": 1})
        driver.raise_events("go", [1, 2, 3])          # one episode with three EventRaised
        driver.complete_child(driver.children[0].instance_id, {"ok": True})
    """

    def __init__(self, builder: Any, instance_id: str = INSTANCE_ID, start: datetime | None = None) -> None:
        built = builder.build()
        self.handle = built.get_user_function()
        self.name = built.get_function_name()
        self.instance_id = instance_id
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.instance: Instance | None = None
        self.history: list[Event] = []
        self.children: list[Child] = []
        self.custom_statuses: list[Any] = []
        self.continued_as_new = 0
        self.episodes = 0

    @property
    def status(self) -> Status:
        """The instance's runtime status."""
        assert self.instance is not None, "start() first"
        return self.instance.status

    @property
    def custom_status(self) -> Any:
        """The latest custom status."""
        return self.custom_statuses[-1] if self.custom_statuses else None

    @property
    def input(self) -> Any:
        """The current execution's input (the carried state after a continue_as_new)."""
        assert self.instance is not None
        return json.loads(self.instance.input) if self.instance.input is not None else None

    def advance(self, seconds: float) -> None:
        """Move the virtual clock (the next episode's current_utc_datetime)."""
        self.now = self.now + timedelta(seconds=seconds)

    def start(self, orchestration_input: Any) -> None:
        """Create the instance and run its first episode."""
        self.instance = new_instance(self.instance_id, self.name, json.dumps(orchestration_input), self.now)
        self._deliver([start_message(self.instance, self.now).event])

    def raise_events(self, name: str, payloads: list[Any]) -> None:
        """Deliver one EventRaised per payload, all in one episode."""
        self._deliver([event_raised(name, json.dumps(payload), self.now) for payload in payloads])

    def complete_child(self, instance_id: str, output: Any) -> None:
        """Deliver a child's completion with `output`."""
        child = self.child(instance_id)
        self._deliver([sub_orchestration_completed(child.task_id, json.dumps(output), self.now)])

    def fail_child(self, instance_id: str, reason: str) -> None:
        """Deliver a child's failure."""
        child = self.child(instance_id)
        message = f"Sub-orchestration '{child.name}' failed: {reason}"
        self._deliver([sub_orchestration_failed(child.task_id, message, "", self.now)])

    def child(self, instance_id: str) -> Child:
        """The child started with this instance id (the latest one, if the id was used again)."""
        matches = [child for child in self.children if child.instance_id == instance_id]
        assert matches, f"no child {instance_id!r}; children: {[child.instance_id for child in self.children]}"
        return matches[-1]

    def _deliver(self, events: list[Event]) -> None:
        assert self.instance is not None
        result = run_batch_episode(self.instance, self.history, events, self.handle, self.now)
        self.episodes += 1
        commit = result.commit
        self.history = list(commit.history) if commit.replace_history else self.history + commit.history
        for child in commit.new_instances:
            assert child.parent_task_id is not None
            self.children.append(Child(child.instance_id, child.name, json.loads(child.input or "null"),
                                       child.parent_task_id))
        if self.instance.custom_status is not None:
            self.custom_statuses.append(json.loads(self.instance.custom_status))
        restart = [message for message in commit.messages if message.instance_id == self.instance_id]
        if result.outcome is Status.ContinuedAsNew and restart:
            self.continued_as_new += 1
            self._deliver([restart[-1].event])
