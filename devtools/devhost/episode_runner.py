"""Run one episode end to end: history in, replay, completion, continue-as-new, parent notification."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status
from azure.durable_functions.models.actions import ActionType as Act
from azure.durable_functions.models.history import HistoryEventType as Ev

from devtools.devhost.episode import Episode, apply_new_actions, follow_up_retry, start_message
from devtools.devhost.history import (
    Event,
    execution_completed,
    execution_failed,
    format_time,
    kind_of,
    mark_played,
    orchestrator_completed,
    orchestrator_started,
    sub_orchestration_completed,
    sub_orchestration_failed,
)
from devtools.devhost.orchestration_runner import OrchestratorState, replay
from devtools.devhost.store import Commit, Instance, Message


@dataclass
class EpisodeResult:
    """An episode's commit, the work it asks for, and the instance's status after it (for the log)."""

    episode: Episode
    commit: Commit
    outcome: Status


def _to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _notify_parent(ep: Episode, note: Callable[[int], Event]) -> None:
    """Send the parent of a sub-orchestration the event `note` builds for the child's task id."""
    child = ep.instance
    if child.parent_instance_id is None or child.parent_execution_id is None or child.parent_task_id is None:
        return
    ep.messages.append(Message(child.parent_instance_id, child.parent_execution_id, note(child.parent_task_id)))


def _fail(ep: Episode, message: str) -> Status:
    ep.activities.clear()
    ep.timers.clear()
    ep.children.clear()
    ep.messages.clear()
    ep.instance.status = Status.Failed
    ep.instance.output = json.dumps(message)
    ep.new_events.append(execution_failed(message, ep.now))
    reason = f"Sub-orchestration '{ep.instance.name}' failed: {message}"
    _notify_parent(ep, lambda task_id: sub_orchestration_failed(task_id, reason, "", ep.now))
    return Status.Failed


def _complete(ep: Episode, output: Any) -> Status:
    result = _to_json(output)
    ep.instance.status = Status.Completed
    ep.instance.output = result
    ep.new_events.append(execution_completed(result, ep.now))
    _notify_parent(ep, lambda task_id: sub_orchestration_completed(task_id, result, ep.now))
    return Status.Completed


def _continue_as_new(ep: Episode, action: dict[str, Any]) -> Message:
    instance = ep.instance
    instance.execution_id = uuid.uuid4().hex
    instance.input = action.get("input")
    instance.next_seq, instance.actions_seen = 0, 0
    ep.activities.clear()
    ep.timers.clear()
    return start_message(instance, ep.now)


def _finish(ep: Episode, state: OrchestratorState) -> tuple[Status, Message | None]:
    if state.error is not None or ep.error is not None:
        return _fail(ep, ep.error or state.error or "orchestrator failed"), None
    if not state.is_done:
        return Status.Running, None
    continue_as_new = [a for a in state.actions if a.get("actionType") == Act.CONTINUE_AS_NEW]
    if continue_as_new:
        return Status.ContinuedAsNew, _continue_as_new(ep, continue_as_new[-1])
    return _complete(ep, state.output), None


def _delivered_events(ep: Episode, history: list[Event], delivered: list[Event]) -> tuple[list[Event], bool]:
    started = orchestrator_started(ep.now)
    if len(delivered) == 1 and kind_of(delivered[0]) == Ev.EXECUTION_STARTED:
        ep.instance.status = Status.Running
        ep.instance.next_seq, ep.instance.actions_seen = 0, 0
        return [started, delivered[0]], True
    ep.new_events += [started, *delivered]
    for event in delivered:
        follow_up_retry(ep, history, event)
    return mark_played(history), False


def run_episode(
    instance: Instance, history: list[Event], message: Message, handle: Callable[..., Any], now: datetime,
) -> EpisodeResult:
    """Deliver one message to an instance, replay it, and return what to commit and run."""
    return run_batch_episode(instance, history, [message.event], handle, now, message.msg_id)


def run_batch_episode(
    instance: Instance, history: list[Event], delivered: list[Event], handle: Callable[..., Any], now: datetime,
    consumed_msg_id: int | None = None,
) -> EpisodeResult:
    """Deliver several events in one episode, as the extension does with a batch of messages (tests use this to
    replay what arrives together); an ExecutionStarted comes alone."""
    ep = Episode(instance, now)
    prior, fresh_start = _delivered_events(ep, history, delivered)
    if fresh_start:
        ep.new_events = prior
        prior = []
    state = replay(handle, instance.instance_id, prior + ep.new_events, instance.input, instance.parent_instance_id)
    apply_new_actions(ep, state)
    if state.custom_status is not None:
        instance.custom_status = json.dumps(state.custom_status)
    outcome, restart = _finish(ep, state)
    instance.last_updated_time = format_time(now)
    if restart is not None:
        ep.messages.append(restart)
        events, replace_history = [], True
    else:
        events, replace_history = [*ep.new_events, orchestrator_completed(now)], fresh_start
    commit = Commit(instance, events, replace_history, consumed_msg_id, ep.children, ep.messages)
    return EpisodeResult(ep, commit, outcome)


def fail_episode(instance: Instance, message: Message, reason: str, now: datetime) -> EpisodeResult:
    """An episode that fails the instance without running it (unknown orchestrator, host error)."""
    ep = Episode(instance, now)
    fresh_start = kind_of(message.event) == Ev.EXECUTION_STARTED
    if fresh_start:
        ep.new_events = [orchestrator_started(now), message.event]
    outcome = _fail(ep, reason)
    instance.last_updated_time = format_time(now)
    commit = Commit(instance, ep.new_events, fresh_start, message.msg_id, [], ep.messages)
    return EpisodeResult(ep, commit, outcome)
