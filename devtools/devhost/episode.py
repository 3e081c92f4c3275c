"""One orchestration episode: deliver an event, replay, turn new actions into history and work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status
from azure.durable_functions.models.actions import ActionType as Act
from azure.durable_functions.models.history import HistoryEventType as Ev

from devtools.devhost.history import (
    RETRY_KEY,
    Event,
    Retry,
    execution_started,
    find_scheduled,
    format_time,
    kind_of,
    parse_time,
    sub_orchestration_created,
    task_scheduled,
    timer_created,
)
from devtools.devhost.orchestration_runner import OrchestratorState, takes_sequence_number
from devtools.devhost.store import Instance, Message
from devtools.devhost.work_items import ActivityWork, TimerWork

ACTIVITY_ACTIONS = {Act.CALL_ACTIVITY, Act.CALL_ACTIVITY_WITH_RETRY}
SUB_ACTIONS = {Act.CALL_SUB_ORCHESTRATOR, Act.CALL_SUB_ORCHESTRATOR_WITH_RETRY}
IGNORED_ACTIONS = {Act.WAIT_FOR_EXTERNAL_EVENT, Act.CONTINUE_AS_NEW}


@dataclass
class Episode:
    """Accumulates what one episode appends to history, creates and asks to run."""

    instance: Instance
    now: datetime
    new_events: list[Event] = field(default_factory=list)
    activities: list[ActivityWork] = field(default_factory=list)
    timers: list[TimerWork] = field(default_factory=list)
    children: list[Instance] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    error: str | None = None

    def take_seq(self) -> int:
        """Allocate the next task id, in step with the SDK's own sequence counter."""
        seq = self.instance.next_seq
        self.instance.next_seq += 1
        return seq

    def schedule_activity(self, seq: int, name: str, input_json: str | None, retry: Retry | None) -> None:
        """Append TaskScheduled and ask for the activity to run."""
        self.new_events.append(task_scheduled(seq, name, input_json, self.now, retry))
        instance = self.instance
        self.activities.append(ActivityWork(instance.instance_id, instance.execution_id, seq, name, input_json))

    def create_timer(self, seq: int, fire_at: datetime, retry: Retry | None = None) -> None:
        """Append TimerCreated and ask for the timer to be armed."""
        self.new_events.append(timer_created(seq, fire_at, self.now, retry))
        self.timers.append(TimerWork(self.instance.instance_id, self.instance.execution_id, seq, fire_at))

    def create_sub_orchestration(self, seq: int, action: dict[str, Any], retry: Retry | None) -> None:
        """Append SubOrchestrationInstanceCreated and create the child instance."""
        parent = self.instance
        attempt = retry["attempt"] if retry else 1
        child_id = action.get("instanceId") or f"{parent.instance_id}:{seq}"
        child_id = child_id if attempt == 1 else f"{child_id}:attempt{attempt}"
        note = {**retry, "action": action} if retry else None
        self.new_events.append(
            sub_orchestration_created(seq, action["functionName"], action.get("input"), child_id, self.now, note))
        child = new_instance(child_id, action["functionName"], action.get("input"), self.now)
        child.parent_instance_id, child.parent_execution_id = parent.instance_id, parent.execution_id
        child.parent_task_id = seq
        self.children.append(child)
        self.messages.append(start_message(child, self.now))


def new_instance(instance_id: str, name: str, input_json: str | None, now: datetime) -> Instance:
    """A Pending instance with a fresh execution id."""
    stamp = format_time(now)
    return Instance(instance_id, name, uuid.uuid4().hex, Status.Pending, input_json, None, None, stamp, stamp)


def start_message(instance: Instance, at: datetime) -> Message:
    """The ExecutionStarted event that starts an instance's first episode."""
    started = execution_started(instance.name, instance.input, instance.parent_instance_id, at)
    return Message(instance.instance_id, instance.execution_id, started)


def _retry_options(action: dict[str, Any]) -> Retry | None:
    options = action.get("retryOptions")
    if not options:
        return None
    return {
        "intervalMs": int(options.get("firstRetryIntervalInMilliseconds", 1000)),
        "maxAttempts": int(options.get("maxNumberOfAttempts", 1)),
        "attempt": 1,
    }


def follow_up_retry(ep: Episode, history: list[Event], delivered: Event) -> None:
    """After a failed attempt of a with-retry task: a retry timer; after that timer: the next attempt."""
    kind = kind_of(delivered)
    if kind in (Ev.TASK_FAILED, Ev.SUB_ORCHESTRATION_INSTANCE_FAILED):
        source_kind = Ev.TASK_SCHEDULED if kind == Ev.TASK_FAILED else Ev.SUB_ORCHESTRATION_INSTANCE_CREATED
        source = find_scheduled(history, source_kind, int(delivered["TaskScheduledId"]))
        retry = (source or {}).get(RETRY_KEY)
        if retry and source:
            payload = {**retry, "kind": source_kind, "name": source["Name"], "input": source.get("Input")}
            ep.create_timer(ep.take_seq(), ep.now + timedelta(milliseconds=retry["intervalMs"]), payload)
    elif kind == Ev.TIMER_FIRED:
        timer = find_scheduled(history, Ev.TIMER_CREATED, int(delivered["TimerId"]))
        retry = (timer or {}).get(RETRY_KEY)
        if retry and retry["attempt"] < retry["maxAttempts"]:
            again = {k: retry[k] for k in ("intervalMs", "maxAttempts")} | {"attempt": retry["attempt"] + 1}
            if Ev(retry["kind"]) == Ev.TASK_SCHEDULED:
                ep.schedule_activity(ep.take_seq(), retry["name"], retry["input"], again)
            else:
                ep.create_sub_orchestration(ep.take_seq(), retry["action"], again)


def _apply_action(ep: Episode, action: dict[str, Any], seq: int) -> None:
    kind = action.get("actionType")
    if kind in ACTIVITY_ACTIONS:
        ep.schedule_activity(seq, action["functionName"], action.get("input"), _retry_options(action))
    elif kind == Act.CREATE_TIMER:
        ep.create_timer(seq, parse_time(action["fireAt"]))
    elif kind in SUB_ACTIONS:
        ep.create_sub_orchestration(seq, action, _retry_options(action))
    elif kind not in IGNORED_ACTIONS:
        ep.error = f"devhost does not support action type {kind} (durable entities, call_http)"


def apply_new_actions(ep: Episode, state: OrchestratorState) -> None:
    """Turn the actions the orchestrator added since the last episode into history and work."""
    fresh = state.actions[ep.instance.actions_seen:]
    ep.instance.actions_seen = len(state.actions)
    for action in fresh:
        seq = ep.take_seq() if takes_sequence_number(action) else -1
        _apply_action(ep, action, seq)
