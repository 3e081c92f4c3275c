"""What the store holds: instances, inbox messages, and the commit one episode writes."""

from __future__ import annotations

from dataclasses import dataclass, field

from devtools.devhost.history import Event

TERMINAL = ("Completed", "Failed", "Terminated")
@dataclass
class Instance:
    """One orchestration instance as stored (JSON values kept as JSON text)."""

    instance_id: str
    name: str
    execution_id: str
    status: str
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
        return self.status in TERMINAL


@dataclass
class Message:
    """An event waiting to be delivered to an instance's next episode."""

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
