"""History events in the JSON shape the Durable Functions extension sends to the Python SDK.

One typed constructor per event kind the host writes; the field names are the ones the SDK's HistoryEvent and
TaskOrchestrationExecutor read (TaskScheduledId, TimerId, Result, Reason, Details, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status
from azure.durable_functions.models.history import HistoryEventType as Ev

Event = dict[str, Any]
Retry = dict[str, Any]
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
RETRY_KEY = "DevhostRetry"
NO_EVENT_ID = -1
COMPLETION_TYPES = {Ev.TASK_COMPLETED, Ev.TASK_FAILED}
SUB_COMPLETION_TYPES = {Ev.SUB_ORCHESTRATION_INSTANCE_COMPLETED, Ev.SUB_ORCHESTRATION_INSTANCE_FAILED}


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """Format a datetime the way the extension does (ISO 8601, UTC, 'Z')."""
    return moment.astimezone(UTC).strftime(DATETIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Parse a timestamp written by format_time or by the SDK."""
    return datetime.strptime(text, DATETIME_FORMAT).replace(tzinfo=UTC)


def _event(kind: Ev, at: datetime, event_id: int = NO_EVENT_ID, retry: Retry | None = None, **fields: Any) -> Event:
    """One history event; IsPlayed is false until a later episode replays it; a retry note rides along."""
    extra = {RETRY_KEY: retry} if retry else {}
    return {"EventType": int(kind), "EventId": event_id, "IsPlayed": False, "Timestamp": format_time(at),
            **fields, **extra}


def execution_started(name: str, input_json: str | None, parent_instance_id: str | None, at: datetime) -> Event:
    """ExecutionStarted: the orchestrator's name and input, and its parent if it is a sub-orchestration."""
    return _event(Ev.EXECUTION_STARTED, at, Name=name, Input=input_json, Version=None,
                  ParentInstance=parent_instance_id)


def orchestrator_started(at: datetime) -> Event:
    """OrchestratorStarted: opens an episode; its time is the orchestrator's current_utc_datetime."""
    return _event(Ev.ORCHESTRATOR_STARTED, at)


def orchestrator_completed(at: datetime) -> Event:
    """OrchestratorCompleted: closes an episode."""
    return _event(Ev.ORCHESTRATOR_COMPLETED, at)


def task_scheduled(task_id: int, name: str, input_json: str | None, at: datetime, retry: Retry | None = None) -> Event:
    """TaskScheduled: activity `name` called as task `task_id`."""
    return _event(Ev.TASK_SCHEDULED, at, task_id, retry, Name=name, Input=input_json)


def task_completed(task_id: int, result_json: str | None, at: datetime) -> Event:
    """TaskCompleted: task `task_id` returned `result_json`."""
    return _event(Ev.TASK_COMPLETED, at, TaskScheduledId=task_id, Result=result_json)


def task_failed(task_id: int, reason: str, details: str, at: datetime) -> Event:
    """TaskFailed: task `task_id` raised; the orchestrator sees `reason` and `details`."""
    return _event(Ev.TASK_FAILED, at, TaskScheduledId=task_id, Reason=reason, Details=details)


def timer_created(timer_id: int, fire_at: datetime, at: datetime, retry: Retry | None = None) -> Event:
    """TimerCreated: durable timer `timer_id` due at `fire_at`."""
    return _event(Ev.TIMER_CREATED, at, timer_id, retry, FireAt=format_time(fire_at))


def timer_fired(timer_id: int, fire_at: datetime, at: datetime) -> Event:
    """TimerFired: durable timer `timer_id` is due."""
    return _event(Ev.TIMER_FIRED, at, TimerId=timer_id, FireAt=format_time(fire_at))


def event_raised(name: str, input_json: str | None, at: datetime) -> Event:
    """EventRaised: external event `name` with its JSON payload."""
    return _event(Ev.EVENT_RAISED, at, Name=name, Input=input_json)


def sub_orchestration_created(task_id: int, name: str, input_json: str | None, instance_id: str, at: datetime,
                              retry: Retry | None = None) -> Event:
    """SubOrchestrationInstanceCreated: orchestrator `name` started as child `instance_id`, task `task_id`."""
    return _event(Ev.SUB_ORCHESTRATION_INSTANCE_CREATED, at, task_id, retry, Name=name, Input=input_json,
                  InstanceId=instance_id)


def sub_orchestration_completed(task_id: int, result_json: str | None, at: datetime) -> Event:
    """SubOrchestrationInstanceCompleted: the child started as task `task_id` returned `result_json`."""
    return _event(Ev.SUB_ORCHESTRATION_INSTANCE_COMPLETED, at, TaskScheduledId=task_id, Result=result_json)


def sub_orchestration_failed(task_id: int, reason: str, details: str, at: datetime) -> Event:
    """SubOrchestrationInstanceFailed: the child started as task `task_id` failed."""
    return _event(Ev.SUB_ORCHESTRATION_INSTANCE_FAILED, at, TaskScheduledId=task_id, Reason=reason, Details=details)


def execution_completed(result_json: str | None, at: datetime) -> Event:
    """ExecutionCompleted with status Completed and the orchestrator's output."""
    return _event(Ev.EXECUTION_COMPLETED, at, OrchestrationStatus=Status.Completed.value, Result=result_json)


def execution_failed(message: str, at: datetime) -> Event:
    """ExecutionCompleted with status Failed and the error message."""
    return _event(Ev.EXECUTION_COMPLETED, at, OrchestrationStatus=Status.Failed.value, Result=None,
                  FailureDetails={"ErrorMessage": message})


def execution_terminated(reason_json: str, at: datetime) -> Event:
    """ExecutionTerminated: the instance was terminated; the reason is its output."""
    return _event(Ev.EXECUTION_TERMINATED, at, Input=reason_json)


def kind_of(history_event: Event) -> Ev:
    """The event's type as the SDK enum."""
    return Ev(history_event["EventType"])


def mark_played(history: list[Event]) -> list[Event]:
    """Return the history with every event marked as already played."""
    return [{**e, "IsPlayed": True} for e in history]


def find_scheduled(history: list[Event], kind: Ev, event_id: int) -> Event | None:
    """Find the scheduling event (TaskScheduled, TimerCreated, ...) with this EventId."""
    return next((e for e in history if kind_of(e) == kind and e["EventId"] == event_id), None)


def completed_ids(events: list[Event], kinds: set[Ev], key: str) -> set[int]:
    """Ids of tasks whose completion (of one of `kinds`) is among `events`."""
    return {int(e[key]) for e in events if kind_of(e) in kinds and e.get(key) is not None}


def outstanding(history: list[Event], pending: list[Event]) -> tuple[list[Event], list[Event]]:
    """Activities scheduled with no result yet, and timers created that have not fired."""
    events = history + pending
    done_tasks = completed_ids(events, COMPLETION_TYPES, "TaskScheduledId")
    fired = completed_ids(events, {Ev.TIMER_FIRED}, "TimerId")
    tasks = [e for e in history if kind_of(e) == Ev.TASK_SCHEDULED and e["EventId"] not in done_tasks]
    timers = [e for e in history if kind_of(e) == Ev.TIMER_CREATED and e["EventId"] not in fired]
    return tasks, timers
