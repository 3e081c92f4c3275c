"""A resource-group deployment's life: Accepted, then Running (resources in dependency order), then Succeeded/Failed.

A worker thread per deployment waits `accept_s` (Accepted), then deploys each planned resource once all it depends on
succeeded (a resource whose dependency failed does not start), each write recorded as a deployment operation. Any
failure ends the deployment Failed with {code DeploymentFailed, details: [the resources' errors]}; otherwise the
outputs are evaluated (reference() reads the created resources) and it ends Succeeded.
"""

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.simulators.arm.parameters import Parameters
from tests.simulators.arm.plan import PlannedResource
from tests.simulators.arm.resource_providers import ResourceProviders
from tests.simulators.arm.template_engine import Evaluator, Scope, TemplateError
from tests.simulators.container_apps.replies import ArmError, now

DEPLOYMENT_TYPE = "Microsoft.Resources/deployments"
STATUS_TEXT = {200: "OK", 201: "Created", 400: "BadRequest", 404: "NotFound", 409: "Conflict",
               500: "InternalServerError"}
FAILED_MESSAGE = ("At least one resource deployment operation failed. Please list deployment operations for details. "
                  "Please see https://aka.ms/arm-deployment-operations for usage details.")
OUTPUT_TYPES = {"string": "String", "securestring": "SecureString", "int": "Int", "bool": "Bool", "array": "Array",
                "object": "Object", "secureobject": "SecureObject"}


def duration(seconds: float) -> str:
    """An ISO 8601 duration, as ARM writes it (PT12.345S)."""
    return f"PT{seconds:.3f}S"


@dataclass
class OperationRecord:
    """One resource write of the deployment."""

    resource: PlannedResource
    operation_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16].upper())
    state: str = "Running"
    status_code: int | None = None
    error: dict[str, Any] | None = None
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    timestamp: str = field(default_factory=now)

    def body(self, deployment_id: str) -> dict[str, Any]:
        """The DeploymentOperation resource."""
        resource = self.resource
        properties: dict[str, Any] = {
            "provisioningOperation": "Create", "provisioningState": self.state, "timestamp": self.timestamp,
            "duration": duration((self.ended or time.monotonic()) - self.started),
            "trackingId": str(uuid.uuid4()), "serviceRequestId": str(uuid.uuid4()),
            "targetResource": {"id": resource.id, "resourceType": resource.type, "resourceName": resource.name,
                               "apiVersion": resource.api_version},
        }
        if self.status_code is not None:
            properties["statusCode"] = STATUS_TEXT.get(self.status_code, str(self.status_code))
        if self.error is not None:
            properties["statusMessage"] = {"status": "Failed", "error": self.error}
        return {"id": f"{deployment_id}/operations/{self.operation_id}", "operationId": self.operation_id,
                "properties": properties}


@dataclass
class DeploymentRecord:
    """One deployment (the latest under its name) and where it stands."""

    scope: Scope
    name: str
    mode: str
    template: dict[str, Any]
    planned: list[PlannedResource]
    parameters: Parameters
    state: str = "Accepted"
    status_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    timestamp: str = field(default_factory=now)
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    operations: list[OperationRecord] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The deployment's resource ID."""
        return f"{self.scope.resource_group_id}/providers/{DEPLOYMENT_TYPE}/{self.name}"

    @property
    def active(self) -> bool:
        """Accepted or Running."""
        return self.state in ("Accepted", "Running")

    def body(self) -> dict[str, Any]:
        """The DeploymentExtended resource."""
        properties: dict[str, Any] = {
            "provisioningState": self.state, "correlationId": self.correlation_id, "timestamp": self.timestamp,
            "duration": duration((self.ended or time.monotonic()) - self.started), "mode": self.mode,
            "parameters": self.parameters.shown(), "templateHash": str(abs(hash(repr(self.template))) % 10**19),
            "providers": sorted({resource.type.split("/")[0] for resource in self.planned}),
            "dependencies": [], "outputResources": [
                {"id": op.resource.id} for op in self.operations if op.state == "Succeeded"],
        }
        properties["providers"] = [{"namespace": namespace} for namespace in properties["providers"]]
        if self.outputs is not None:
            properties["outputs"] = self.outputs
        if self.error is not None:
            properties["error"] = self.error
        return {"id": self.id, "name": self.name, "type": DEPLOYMENT_TYPE, "properties": properties}

    def status_body(self) -> dict[str, Any]:
        """The asynchronous operation status the SDK polls."""
        body: dict[str, Any] = {"status": self.state}
        if self.error is not None:
            body["error"] = self.error
        return body


class DeploymentRuntime:
    """What reference() and listKeys() read during a deployment: the providers' resources."""

    def __init__(self, providers: ResourceProviders, record: DeploymentRecord) -> None:
        self.providers = providers
        self.record = record

    def _id(self, target: str) -> str:
        if target.startswith("/"):
            return target
        for resource in self.record.planned:
            if resource.name.lower() == target.lower():
                return resource.id
        raise TemplateError("InvalidTemplate", f"The resource '{target}' is not defined in the template.")

    def reference(self, resource_id: str, api_version: str | None, full: bool) -> Any:
        """The resource's properties, or its whole body."""
        try:
            body = self.providers.get(self._id(resource_id))
        except ArmError as error:
            raise TemplateError(error.code, error.message) from error
        return body if full else body.get("properties", {})

    def list_keys(self, resource_id: str, api_version: str) -> Any:
        """The resource's keys."""
        try:
            return self.providers.list_keys(self._id(resource_id))
        except ArmError as error:
            raise TemplateError(error.code, error.message) from error


class Runner:
    """Runs deployments in threads; state changes happen under `lock`."""

    def __init__(self, providers: ResourceProviders, lock: threading.RLock, accept_s: float = 0.5) -> None:
        self.providers = providers
        self.lock = lock
        self.accept_s = accept_s

    def start(self, record: DeploymentRecord) -> None:
        """Run the deployment in the background."""
        threading.Thread(target=self._run, args=(record,), name=f"deployment-{record.name}", daemon=True).start()

    def _run(self, record: DeploymentRecord) -> None:
        time.sleep(self.accept_s)
        with self.lock:
            record.state = "Running"
        runtime = DeploymentRuntime(self.providers, record)
        evaluator = Evaluator(record.template, record.scope, record.parameters, runtime)
        succeeded: set[str] = set()
        for resource in record.planned:
            if not set(resource.depends_on) <= succeeded:
                continue
            if self._deploy(record, evaluator, resource):
                succeeded.add(resource.id.lower())
        failures = [op.error for op in record.operations if op.error is not None]
        outputs = None if failures else self._outputs(record, evaluator, failures)
        with self.lock:
            record.outputs = outputs
            if failures:
                record.error = {"code": "DeploymentFailed", "target": record.id, "message": FAILED_MESSAGE,
                                "details": failures}
            record.ended = time.monotonic()
            record.state = "Failed" if failures else "Succeeded"

    def _deploy(self, record: DeploymentRecord, evaluator: Evaluator, resource: PlannedResource) -> bool:
        operation = OperationRecord(resource)
        problem: dict[str, str] | None = None
        with self.lock:
            record.operations.append(operation)
        try:
            body = {key: evaluator.value(value) for key, value in resource.source.items()
                    if key not in ("condition", "type", "apiVersion", "name", "dependsOn", "comments", "metadata")}
            status, _ = self.providers.put(resource.id, resource.api_version, body)
        except TemplateError as error:
            status, problem = 400, {"code": error.code, "message": error.message}
        except ArmError as error:
            status, problem = error.status, {"code": error.code, "message": error.message}
        with self.lock:
            operation.status_code, operation.ended = status, time.monotonic()
            operation.state = "Failed" if problem else "Succeeded"
            if problem:
                operation.error = {**problem, "target": resource.id}
        return problem is None

    @staticmethod
    def _outputs(record: DeploymentRecord, evaluator: Evaluator, failures: list[Any]) -> dict[str, Any] | None:
        outputs: dict[str, Any] = {}
        for name, output in (record.template.get("outputs") or {}).items():
            try:
                value = evaluator.value(output.get("value"))
            except TemplateError as error:
                failures.append({"code": "DeploymentOutputEvaluationFailed", "target": record.id,
                                 "message": f"Unable to evaluate template outputs: '{name}'. {error.message}"})
                return None
            kind = OUTPUT_TYPES.get(str(output.get("type", "")).lower(), str(output.get("type")))
            outputs[name] = {"type": kind} if kind.startswith("Secure") else {"type": kind, "value": value}
        return outputs
