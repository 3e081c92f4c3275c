"""The simulated container apps' state (documents, revisions, replicas, operations) and the JSON ARM returns for it.

The app's ingress fqdn is the loopback URL of its simulated ingress, `http://127.0.0.1:<port>` (scheme included, no
TLS): the real service returns a bare host name served over HTTPS. Each revision serves on a loopback port of its
own, its fqdn (the revision-specific URL, reachable whatever its traffic); the ingress forwards to the revisions
with traffic (traffic.py). A revision reports max(minReplicas, 1) replicas (at most maxReplicas), all views of its
one process: enough to see that an in-place change through the endpoint would reach one replica of several.
"""

import copy
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.simulators.container_apps import traffic
from tests.simulators.container_apps.replies import API_VERSION, PROVIDER, now

APP_TYPE = f"{PROVIDER}/containerApps"


@dataclass
class ReplicaView:
    """What the replicas list reports about a revision's one replica (the controller keeps it current)."""

    name: str
    created: str = field(default_factory=now)
    ready: bool = False
    started: bool = False
    restart_count: int = 0
    state: str = "Waiting"
    details: str = "ContainerCreating"

    def body(self, revision_id: str, container: str, index: int = 0) -> dict[str, Any]:
        """The Replica resource (`index` > 0: another view of the same process, as a further replica)."""
        name = self.name if index == 0 else f"{self.name}-{index}"
        status = {"ready": self.ready, "started": self.started, "restartCount": self.restart_count,
                  "runningState": self.state, "runningStateDetails": self.details}
        properties = {
            "createdTime": self.created,
            "runningState": "Running" if self.state == "Running" else "NotRunning",
            "runningStateDetails": self.details,
            "containers": [{"name": container, "containerId": f"containerd://{name}", **status}],
        }
        return {"id": f"{revision_id}/replicas/{name}", "name": name,
                "type": f"{APP_TYPE}/revisions/replicas", "properties": properties}


@dataclass
class RevisionRecord:
    """One revision: the template it runs and the states it moves through."""

    name: str
    template: dict[str, Any]
    port: int
    backend_port: int
    created: str = field(default_factory=now)
    provisioning_state: str = "Provisioning"
    running_state: str = "Processing"
    health_state: str = "None"
    provisioning_error: str | None = None
    active: bool = True
    generation: int = 0
    ever_ready: bool = False
    replica: ReplicaView | None = None

    @property
    def fqdn(self) -> str:
        """The revision-specific URL: its own ingress's loopback port (its process listens on backend_port)."""
        return f"http://127.0.0.1:{self.port}"

    def replica_count(self) -> int:
        """Replicas the revision reports: max(minReplicas, 1), at most maxReplicas (0 until its process is ready)."""
        if not (self.replica and self.replica.ready):
            return 0
        scale = self.template.get("scale") or {}
        wanted = max(int(scale.get("minReplicas") or 0), 1)
        return min(wanted, int(scale.get("maxReplicas") or wanted))

    def body(self, app_id: str, weight: int = 0) -> dict[str, Any]:
        """The Revision resource (`weight`: its share of the app's traffic)."""
        properties: dict[str, Any] = {
            "createdTime": self.created, "lastActiveTime": self.created, "fqdn": self.fqdn,
            "template": copy.deepcopy(self.template), "active": self.active,
            "replicas": self.replica_count(), "trafficWeight": weight,
            "healthState": self.health_state, "provisioningState": self.provisioning_state,
            "runningState": self.running_state,
        }
        if self.provisioning_error:
            properties["provisioningError"] = self.provisioning_error
        return {"id": f"{app_id}/revisions/{self.name}", "name": self.name, "type": f"{APP_TYPE}/revisions",
                "properties": properties}


@dataclass
class Operation:
    """An asynchronous PUT or PATCH: done when the revision it created is provisioned (or at once without one)."""

    id: str
    subscription: str
    location: str
    revision: str | None
    not_before: float
    started: str = field(default_factory=now)
    status: str = "InProgress"
    error: dict[str, str] | None = None
    ended: str | None = None

    def path(self, kind: str) -> str:
        """The operation's status (containerappOperationStatuses) or result (containerappOperationResults) path."""
        location = self.location.replace(" ", "").lower()
        return f"/subscriptions/{self.subscription}/providers/{PROVIDER}/locations/{location}/{kind}/{self.id}"

    def finish(self, status: str, error: dict[str, str] | None = None) -> None:
        """Record the outcome."""
        self.status, self.error, self.ended = status, error, now()

    def body(self) -> dict[str, Any]:
        """The operation-status resource the SDK polls."""
        body: dict[str, Any] = {"id": self.path("containerappOperationStatuses"), "name": self.id,
                                "status": self.status, "startTime": self.started}
        if self.ended:
            body["endTime"] = self.ended
        if self.error:
            body["error"] = self.error
        return body


@dataclass
class AppRecord:
    """One container app: its writable document (secret values included), revisions and last operation."""

    subscription: str
    resource_group: str
    name: str
    document: dict[str, Any]
    port: int
    revisions: dict[str, RevisionRecord] = field(default_factory=dict)
    latest_revision: str | None = None
    latest_ready_revision: str | None = None
    operation: Operation | None = None

    @property
    def id(self) -> str:
        """The app's resource ID."""
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
                f"{APP_TYPE}/{self.name}")

    @property
    def fqdn(self) -> str:
        """The simulated ingress: the app's loopback URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def configuration(self) -> dict[str, Any]:
        """properties.configuration."""
        return dict(self.document.get("properties", {}).get("configuration") or {})

    @property
    def template(self) -> dict[str, Any]:
        """properties.template."""
        return dict(self.document.get("properties", {}).get("template") or {})

    def secrets(self) -> dict[str, str]:
        """Secret values by name (what listSecrets returns and secretRef resolves)."""
        return {secret["name"]: secret.get("value", "") for secret in self.configuration.get("secrets") or []}

    def current(self) -> RevisionRecord | None:
        """The latest revision, while it is active."""
        revision = self.revisions.get(self.latest_revision or "")
        return revision if revision and revision.active else None

    def running(self) -> list[RevisionRecord]:
        """The revisions that should run: the active ones (one in Single mode)."""
        return [revision for revision in self.revisions.values() if revision.active]

    def weights(self) -> dict[str, int]:
        """{revision: traffic weight} of the revisions that take traffic (Single mode: the newest active one)."""
        running = self.running()
        return traffic.weights(self.configuration, self.latest_revision, running[-1].name if running else None)

    def backend(self) -> int | None:
        """The port of the revision that takes the next request on the app's endpoint: drawn by weight among those
        with a ready replica (among all with traffic while none is ready: the server answers that it loads)."""
        shares = {name: weight for name, weight in self.weights().items()
                  if (revision := self.revisions.get(name)) is not None and revision.active}
        ready = {name: weight for name, weight in shares.items()
                 if (view := self.revisions[name].replica) is not None and view.ready}
        chosen = traffic.pick(ready or shares)
        return self.revisions[chosen].backend_port if chosen else None

    def start_operation(self, revision: str | None, min_seconds: float) -> Operation:
        """A new asynchronous operation on the app (it supersedes the previous one)."""
        if self.operation and self.operation.status == "InProgress":
            self.operation.finish("Canceled")
        location = str(self.document.get("location", ""))
        self.operation = Operation(uuid.uuid4().hex, self.subscription, location, revision,
                                   time.monotonic() + min_seconds)
        return self.operation

    def settle(self) -> None:
        """Finish the operation once its revision is provisioned or failed (and its minimum time has passed)."""
        operation = self.operation
        if operation is None or operation.status != "InProgress" or time.monotonic() < operation.not_before:
            return
        revision = self.revisions.get(operation.revision or "")
        if revision is None or revision.provisioning_state == "Provisioned":
            operation.finish("Succeeded")
        elif revision.provisioning_state == "Failed":
            message = (f"Failed to provision revision for container app '{self.name}'. "
                       f"Error details: {revision.provisioning_error}")
            operation.finish("Failed", {"code": "ContainerAppOperationError", "message": message})

    def running_status(self) -> str:
        """properties.runningStatus."""
        if self.operation and self.operation.status == "InProgress":
            return "Progressing"
        ready = self.revisions.get(self.latest_ready_revision or "")
        return "Running" if ready and ready.active and ready.running_state == "Running" else "Stopped"

    def body(self) -> dict[str, Any]:
        """The ContainerApp resource: secret values withheld, read-only properties filled in."""
        self.settle()
        document = copy.deepcopy(self.document)
        properties = document.setdefault("properties", {})
        configuration = properties.setdefault("configuration", {})
        configuration.setdefault("activeRevisionsMode", "Single")
        if configuration.get("secrets"):
            configuration["secrets"] = [{"name": secret["name"]} for secret in configuration["secrets"]]
        if configuration.get("ingress") is not None:
            configuration["ingress"]["fqdn"] = self.fqdn
        environment = properties.get("environmentId") or properties.get("managedEnvironmentId")
        state = self.operation.status if self.operation else "Succeeded"
        properties.update(provisioningState=state, runningStatus=self.running_status(),
                          environmentId=environment, managedEnvironmentId=environment,
                          latestRevisionFqdn=self.fqdn, outboundIpAddresses=["127.0.0.1"])
        names = {"latestRevisionName": self.latest_revision, "latestReadyRevisionName": self.latest_ready_revision}
        properties.update({key: value for key, value in names.items() if value})
        return {"id": self.id, "name": self.name, "type": APP_TYPE, **document}


def operation_url(base: str, operation: Operation, kind: str) -> str:
    """An absolute operation URL, as the Azure-AsyncOperation and Location headers carry it."""
    return f"{base}{operation.path(kind)}?api-version={API_VERSION}"
