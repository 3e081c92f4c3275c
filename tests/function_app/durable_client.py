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

    @property
    def input_(self) -> Any:
        """The input, under the SDK status's attribute name."""
        return self.input


@dataclass
class FakeDurableClient:
    """Starts nothing: records instances as the backend does (a live id is refused, a finished one replaced).

    Events raised to a `deployer` instance are recorded and acknowledged the way the deployer publishes them
    (the request id in its custom status's `accepted` and `queued`), so a starter's wait for its id ends.
    """

    instances: dict[str, Instance] = field(default_factory=dict)
    events: list[tuple[str, str, Any]] = field(default_factory=list)

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

    async def get_status(self, instance_id: str, show_history: bool = False, show_history_output: bool = False,
                         show_input: bool = False) -> Instance | None:
        """The instance, or None when unknown."""
        return self.instances.get(instance_id)

    async def get_status_by(self, created_time_from: datetime | None = None, created_time_to: datetime | None = None,
                            runtime_status: list[Status] | None = None,
                            instance_id_prefix: str | None = None) -> list[Instance]:
        """Instances whose id starts with the prefix (and has one of the statuses, when given)."""
        return [instance for instance in self.instances.values()
                if instance.instance_id.startswith(instance_id_prefix or "")
                and (not runtime_status or instance.runtime_status in runtime_status)]

    async def raise_event(self, instance_id: str, event_name: str, event_data: Any = None) -> None:
        """Record the event; a deployer acknowledges a deploy request in its custom status."""
        instance = self.instances.get(instance_id)
        if instance is None:
            raise Exception(f"No instance with ID {instance_id} found.")
        if instance.runtime_status in REPLACEABLE:
            raise Exception(f"Instance with ID {instance_id} is gone: either completed or failed")
        self.events.append((instance_id, event_name, event_data))
        if instance.name == "deployer" and isinstance(event_data, dict):
            custom = instance.custom_status or {"app_name": instance.input["app_name"], "state": "idle",
                                                "queued": [], "accepted": []}
            if event_data["request_id"] not in custom["accepted"]:
                custom["accepted"].append(event_data["request_id"])
                custom["queued"].append({key: event_data[key] for key in ("request_id", "requested_at", "trigger")})
            instance.custom_status = custom

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
