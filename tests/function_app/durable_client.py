"""An in-memory stand-in for DurableOrchestrationClient, for calling HTTP starters in-process."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
from azure.durable_functions import OrchestrationRuntimeStatus as Status

REPLACEABLE = {Status.Completed, Status.Failed, Status.Terminated, Status.Canceled}


@dataclass
class Instance:
    """What the starters read of a DurableOrchestrationStatus."""

    instance_id: str
    name: str
    input: Any
    runtime_status: Status = Status.Pending
    output: Any = None
    custom_status: Any = None
    created_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_updated_time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __bool__(self) -> bool:
        return True


@dataclass
class FakeDurableClient:
    """Starts nothing: records instances as the backend does (a live id is refused, a finished one replaced)."""

    instances: dict[str, Instance] = field(default_factory=dict)

    async def start_new(self, orchestration_function_name: str, instance_id: str | None = None,
                        client_input: Any = None) -> str:
        """Record a Pending instance; raise as the SDK does when a live instance holds the id."""
        instance_id = instance_id or uuid.uuid4().hex
        existing = self.instances.get(instance_id)
        if existing is not None and existing.runtime_status not in REPLACEABLE:
            message = f"An Orchestration instance with the status {existing.runtime_status.value} already exists."
            raise Exception({"Message": message})  # the SDK raises a bare Exception with the answer's JSON
        self.instances[instance_id] = Instance(instance_id, orchestration_function_name, client_input)
        return instance_id

    async def get_status(self, instance_id: str) -> Instance | None:
        """The instance, or None when unknown."""
        return self.instances.get(instance_id)

    def create_check_status_response(self, request: func.HttpRequest, instance_id: str) -> func.HttpResponse:
        """202 with the instance id, as the real client answers (without the management URLs)."""
        return func.HttpResponse(json.dumps({"id": instance_id}), status_code=202, mimetype="application/json")


@dataclass
class RacingDurableClient(FakeDurableClient):
    """A client where another starter wins every race: between the status check and the create, a start of the
    same id by someone else lands first (the backend's atomic create then refuses this one)."""

    winner_input: Any = None

    async def start_new(self, orchestration_function_name: str, instance_id: str | None = None,
                        client_input: Any = None) -> str:
        """Let the other starter's create land first, then try ours."""
        if instance_id is not None and instance_id not in self.instances:
            await super().start_new(orchestration_function_name, instance_id, self.winner_input)
        return await super().start_new(orchestration_function_name, instance_id, client_input)


def post(route: str, body: Any, content_type: str | None = "application/json") -> func.HttpRequest:
    """A POST /api/<route> with a JSON body (bytes are sent as they are)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": content_type} if content_type else {}
    return func.HttpRequest("POST", f"http://localhost/api/{route}", body=raw, headers=headers)


def get(route: str, route_params: dict[str, str] | None = None) -> func.HttpRequest:
    """A GET /api/<route>."""
    return func.HttpRequest("GET", f"http://localhost/api/{route}", body=b"", route_params=route_params or {})
