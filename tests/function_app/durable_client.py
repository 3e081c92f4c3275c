"""An in-memory stand-in for DurableOrchestrationClient, for calling HTTP starters in-process."""

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from azure.durable_functions import OrchestrationRuntimeStatus as Status


@dataclass
class Instance:
    """What the starters read of a DurableOrchestrationStatus."""

    instance_id: str
    name: str
    input: Any
    runtime_status: Status = Status.Pending


@dataclass
class FakeDurableClient:
    """Starts nothing: records instances; filters them as the Durable HTTP API does (literal id prefix)."""

    instances: dict[str, Instance] = field(default_factory=dict)

    async def start_new(self, orchestration_function_name: str, instance_id: str | None = None,
                        client_input: Any = None) -> str:
        """Record a Pending instance; return its id."""
        instance_id = instance_id or uuid.uuid4().hex
        self.instances[instance_id] = Instance(instance_id, orchestration_function_name, client_input)
        return instance_id

    async def get_status(self, instance_id: str) -> Instance | None:
        """The instance, or None when unknown."""
        return self.instances.get(instance_id)

    async def get_status_by(self, runtime_status: list[Status] | None = None,
                            instance_id_prefix: str | None = None) -> list[Instance]:
        """Instances in one of `runtime_status` whose id starts with `instance_id_prefix` (literally)."""
        return [
            instance for instance in self.instances.values()
            if (runtime_status is None or instance.runtime_status in runtime_status)
            and instance.instance_id.startswith(instance_id_prefix or "")
        ]

    def create_check_status_response(self, request: func.HttpRequest, instance_id: str) -> func.HttpResponse:
        """202 with the instance id, as the real client answers (without the management URLs)."""
        return func.HttpResponse(json.dumps({"id": instance_id}), status_code=202, mimetype="application/json")


def post(route: str, body: Any) -> func.HttpRequest:
    """A POST /api/<route> with a JSON body."""
    return func.HttpRequest("POST", f"http://localhost/api/{route}", body=json.dumps(body).encode())


def get(route: str, route_params: dict[str, str] | None = None) -> func.HttpRequest:
    """A GET /api/<route>."""
    return func.HttpRequest("GET", f"http://localhost/api/{route}", body=b"", route_params=route_params or {})
