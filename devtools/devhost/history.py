"""History events in the JSON shape the Durable Functions extension sends to the Python SDK."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from azure.durable_functions.models.history import HistoryEventType as Ev

Event = dict[str, Any]
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
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


def event(kind: Ev, event_id: int = -1, at: datetime | None = None, **fields: Any) -> Event:
    """Build one history event; IsPlayed is false until a later episode replays it."""
    return {
        "EventType": int(kind),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_time(at or utc_now()),
        **fields,
    }


def kind_of(history_event: Event) -> Ev:
    """The event's type as the SDK enum."""
    return Ev(history_event["EventType"])


def mark_played(history: list[Event]) -> list[Event]:
    """Return the history with every event marked as already played."""
    return [{**e, "IsPlayed": True} for e in history]


def find_scheduled(history: list[Event], kind: Ev, event_id: int) -> Event | None:
    """Find the scheduling event (TaskScheduled, TimerCreated, ...) with this EventId."""
    for candidate in history:
        if candidate["EventType"] == int(kind) and candidate["EventId"] == event_id:
            return candidate
    return None


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
