"""Replay an orchestrator through the Durable SDK's own handle and read back its state JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.durable_functions.models.actions import ActionType
from azure.functions._durable_functions import OrchestrationContext

from devtools.devhost.history import Event

OUT_OF_PROC_LABEL = "\n\n$OutOfProcData$:"
REPLAY_SCHEMA_V2 = 1
NO_SEQUENCE_NUMBER = {ActionType.WAIT_FOR_EXTERNAL_EVENT}
COMPOUND = {ActionType.WHEN_ALL, ActionType.WHEN_ANY}


@dataclass
class OrchestratorState:
    """What one orchestrator invocation returned: its actions, completion, output or error."""

    actions: list[dict[str, Any]] = field(default_factory=list)
    is_done: bool = False
    output: Any = None
    error: str | None = None
    custom_status: Any = None


def flatten_actions(actions: list[Any]) -> list[dict[str, Any]]:
    """Atomic actions in scheduling order (compound WhenAll/WhenAny actions expanded)."""
    flat: list[dict[str, Any]] = []
    for action in actions:
        if isinstance(action, list):
            flat.extend(flatten_actions(action))
        elif action.get("actionType") in COMPOUND:
            flat.extend(flatten_actions(action.get("compoundActions", [])))
        else:
            flat.append(action)
    return flat


def takes_sequence_number(action: dict[str, Any]) -> bool:
    """Whether the SDK gives this action a task id from its sequence counter."""
    return action.get("actionType") not in NO_SEQUENCE_NUMBER


def _state_from_json(text: str) -> OrchestratorState:
    data = json.loads(text)
    return OrchestratorState(
        actions=flatten_actions(data.get("actions", [])),
        is_done=bool(data.get("isDone")),
        output=data.get("output"),
        error=data.get("error"),
        custom_status=data.get("customStatus"),
    )


def _state_from_failure(exc: Exception) -> OrchestratorState:
    message = str(exc)
    if OUT_OF_PROC_LABEL in message:
        text, _, payload = message.partition(OUT_OF_PROC_LABEL)
        state = _state_from_json(payload)
        state.error = text or state.error
    else:
        state = OrchestratorState(error=f"{type(exc).__name__}: {message}")
    state.is_done = False
    return state


def replay(
    handle: Callable[..., Any], instance_id: str, history: list[Event], input_json: str | None,
    parent_instance_id: str | None,
) -> OrchestratorState:
    """Feed the context JSON with history to the orchestrator handle, as the Functions host does."""
    context = {
        "history": history,
        "instanceId": instance_id,
        "isReplaying": False,
        "parentInstanceId": parent_instance_id,
        "input": input_json,
        "upperSchemaVersion": REPLAY_SCHEMA_V2,
    }
    try:
        result = handle(OrchestrationContext(json.dumps(context)))
    except Exception as exc:  # the SDK reports orchestrator failures as exceptions
        return _state_from_failure(exc)
    return _state_from_json(result if isinstance(result, str) else json.dumps(result))
