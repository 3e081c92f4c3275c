"""What the store holds: instances, inbox messages, the commit one episode writes, and instance queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.history import Event

TERMINAL_STATUSES = frozenset({Status.Completed, Status.Failed, Status.Terminated})
CURRENT_EXECUTION = ""
"""The execution id of a message for whichever execution of the instance is current when it is delivered: an
external event targets the instance, not an execution, so one raised just before a continue_as_new reaches the
new execution (the extension clears the execution id of raised events for this reason)."""


@dataclass
class Instance:
    """One orchestration instance as stored (JSON values kept as JSON text)."""

    instance_id: str
    name: str
    execution_id: str
    status: Status
    input: str | None
    output: str | None
    custom_status: str | None
    created_time: str
    last_updated_time: str
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: int | None = None
    next_seq: int = 0
    actions_seen: int = 0

    @property
    def is_terminal(self) -> bool:
        """Whether the instance has finished (completed, failed or terminated)."""
        return self.status in TERMINAL_STATUSES


@dataclass
class Message:
    """An event waiting to be delivered to an instance's next episode (of one execution, or CURRENT_EXECUTION)."""

    instance_id: str
    execution_id: str
    event: Event
    msg_id: int = 0


@dataclass
class Commit:
    """Everything one episode writes, applied in one transaction."""

    instance: Instance
    history: list[Event]
    replace_history: bool = False
    consumed_msg_id: int | None = None
    new_instances: list[Instance] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True)
class InstanceQuery:
    """Which instances to list or purge; every field left empty matches everything.

    `instance_id_prefix` is compared literally and case-sensitively, as the Durable backends do.
    """

    statuses: frozenset[Status] = frozenset()
    created_from: datetime | None = None
    created_to: datetime | None = None
    instance_id_prefix: str = ""
