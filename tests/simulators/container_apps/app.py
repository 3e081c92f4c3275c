"""The Container Apps simulator: the Microsoft.App REST operations the Azure target uses, api-version 2026-07-01.

Every request needs `Authorization: Bearer <token for https://management.azure.com>` from the identity simulator's
registry (401 otherwise) and `api-version=2026-07-01`. Simulated: containerApps GET, PUT (201/200 + Azure-
AsyncOperation + Retry-After), PATCH (202 + Location + Azure-AsyncOperation + Retry-After), listSecrets; revisions
list (no $filter), get, restart, activate, deactivate (200, not LROs); replicas list; the operation status and
result endpoints the SDK polls; managedEnvironments and their storages GET and PUT (sync). An app's environment must
exist (add_environment seeds one made outside the simulation), its workloadProfileName must name one of the
environment's profiles, and a GPU profile needs GPU quota when `gpu_quota` is set (instances; 400
MaxRegionalQuotaExceeded beyond it). Anything else is a 400 NotSimulated naming the request, so an unexpected call
shows. activeRevisionsMode Multiple, traffic weights and labels are simulated (traffic.py); every revision has its
own URL, the app's endpoint is a forwarding ingress. Use as a context manager: leaving it stops every process it
started.
"""

import re
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from targets.local.ports import free_port
from tests.simulators.container_apps.controller import Controller
from tests.simulators.container_apps.environments import (
    EnvironmentRecord,
    ShareResolver,
    StorageRecord,
    environment_document,
    storage_document,
)
from tests.simulators.container_apps.quota import check_placement
from tests.simulators.container_apps.replies import (
    API_VERSION,
    ArmError,
    authorize,
    error_reply,
    json_reply,
    not_found,
)
from tests.simulators.container_apps.resources import (
    AppRecord,
    Operation,
    ReplicaView,
    RevisionRecord,
    operation_url,
)
from tests.simulators.container_apps.writes import (
    apply,
    deactivate,
    json_body,
    merge_patch,
    request_document,
    revisions_after,
)
from tests.simulators.https_server import Request, Response
from tests.simulators.identity import TokenRegistry

ARM_AUDIENCE = "https://management.azure.com"
APP = (r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
       r"/providers/Microsoft\.App/containerApps/(?P<app>[^/]+)")
REVISION = APP + r"/revisions/(?P<rev>[^/]+)"
ENVIRONMENT = (r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
               r"/providers/Microsoft\.App/managedEnvironments/(?P<env>[^/]+)")
STORAGE = ENVIRONMENT + r"/storages/(?P<storage>[^/]+)"
OPERATIONS = r"^/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.App/locations/[^/]+/"
Handler = Callable[[Request, "re.Match[str]"], Response]


class ContainerAppsApp:
    """Container apps of one subscription, their Azure Files volumes being the directories in `storages`."""

    def __init__(self, tokens: TokenRegistry, subscription: str, runtime_dir: Path, operation_seconds: float = 1.0,
                 retry_after_s: int = 1, share_dir: ShareResolver | None = None) -> None:
        self.tokens = tokens
        self.subscription = subscription
        self.operation_seconds = operation_seconds
        self.retry_after_s = retry_after_s
        self.share_dir = share_dir
        self.gpu_quota: int | None = None
        self.apps: dict[tuple[str, str], AppRecord] = {}
        self.environments: dict[tuple[str, str], EnvironmentRecord] = {}
        self.operations: dict[str, tuple[AppRecord, Operation]] = {}
        self.lock = threading.RLock()
        self.runtime = Controller(self.lock, self._snapshot, self._mounts, runtime_dir)
        self.routes: list[tuple[str, re.Pattern[str], str, Handler]] = [
            (method, re.compile(pattern + "$", re.IGNORECASE), name, handler)
            for method, pattern, name, handler in (
                ("GET", APP, "GetContainerApp", self._get_app),
                ("PUT", APP, "CreateOrUpdateContainerApp", self._put_app),
                ("PATCH", APP, "UpdateContainerApp", self._patch_app),
                ("POST", APP + "/listSecrets", "ListSecrets", self._list_secrets),
                ("GET", APP + "/revisions", "ListRevisions", self._list_revisions),
                ("GET", REVISION, "GetRevision", self._get_revision),
                ("POST", REVISION + "/restart", "RestartRevision", self._restart_revision),
                ("POST", REVISION + "/activate", "ActivateRevision", self._activate_revision),
                ("POST", REVISION + "/deactivate", "DeactivateRevision", self._deactivate_revision),
                ("GET", REVISION + "/replicas", "ListReplicas", self._list_replicas),
                ("GET", OPERATIONS + r"containerappOperationStatuses/(?P<op>[^/]+)", "GetOperationStatus",
                 self._operation_status),
                ("GET", OPERATIONS + r"containerappOperationResults/(?P<op>[^/]+)", "GetOperationResult",
                 self._operation_result),
                ("GET", ENVIRONMENT, "GetManagedEnvironment", self._get_environment),
                ("PUT", ENVIRONMENT, "CreateOrUpdateManagedEnvironment", self._put_environment),
                ("GET", STORAGE, "GetManagedEnvironmentStorage", self._get_storage),
                ("PUT", STORAGE, "CreateOrUpdateManagedEnvironmentStorage", self._put_storage),
            )
        ]

    def _snapshot(self) -> list[AppRecord]:
        with self.lock:
            return list(self.apps.values())

    def environment_of(self, environment_id: str | None) -> EnvironmentRecord | None:
        """The environment a resource ID names, if the simulator has it."""
        match = re.match(ENVIRONMENT + "$", environment_id or "", re.IGNORECASE)
        if match is None or match["sub"] != self.subscription:
            return None
        return self.environments.get((match["rg"].lower(), match["env"].lower()))

    def _mounts(self, app: AppRecord) -> dict[str, Path]:
        properties = app.document.get("properties", {})
        environment = self.environment_of(properties.get("environmentId") or properties.get("managedEnvironmentId"))
        return environment.mounts() if environment else {}

    def add_environment(self, resource_group: str, name: str, document: dict[str, Any],
                        storages: dict[str, Path]) -> EnvironmentRecord:
        """An environment made outside the simulation (as fine-tuning's), its storages mounting `storages`."""
        with self.lock:
            environment = EnvironmentRecord(self.subscription, resource_group, name, document)
            for storage, path in storages.items():
                environment.storages[storage] = StorageRecord(storage, {"properties": {"azureFile": {
                    "accountName": "outside", "shareName": path.name, "accessMode": "ReadWrite"}}}, path)
            self.environments[(resource_group.lower(), name.lower())] = environment
            return environment

    def put_environment(self, resource_group: str, name: str, body: Any) -> tuple[int, EnvironmentRecord]:
        """Create or update an environment (storages kept); 201 or 200."""
        document = environment_document(body)
        with self.lock:
            key = (resource_group.lower(), name.lower())
            existing = self.environments.get(key)
            if existing is not None:
                existing.document = document
                return 200, existing
            self.environments[key] = EnvironmentRecord(self.subscription, resource_group, name, document)
            return 201, self.environments[key]

    def put_storage(self, resource_group: str, environment_name: str, name: str,
                    body: Any) -> tuple[int, StorageRecord]:
        """Create or update an environment storage; its directory is the Files simulator's share directory."""
        document = storage_document(body)
        azure_file = document["properties"]["azureFile"]
        with self.lock:
            environment = self.environments.get((resource_group.lower(), environment_name.lower()))
            if environment is None:
                raise not_found("managedEnvironments", environment_name, resource_group)
            path = self.share_dir(azure_file["accountName"], azure_file["shareName"]) if self.share_dir else None
            existed = name in environment.storages
            environment.storages[name] = StorageRecord(name, document, path)
            return (200 if existed else 201), environment.storages[name]

    def put_app(self, resource_group: str, name: str, document: dict[str, Any]) -> tuple[int, AppRecord, Operation]:
        """Create or update an app from a checked document: 201 or 200, the app, and its asynchronous operation."""
        with self.lock:
            properties = document.get("properties") or {}
            environment = self.environment_of(properties.get("environmentId") or properties.get("managedEnvironmentId"))
            if environment is None:
                raise ArmError(404, "ManagedEnvironmentNotFound",
                               f"The managed environment '{properties.get('environmentId')}' was not found.")
            check_placement(name, document, environment, self.gpu_quota)
            key = (resource_group.lower(), name.lower())
            existing = self.apps.get(key)
            app = existing or AppRecord(self.subscription, resource_group, name, {}, free_port())
            operation = apply(app, document, existing is None, self.operation_seconds)
            self.apps[key] = app
            self.operations[operation.id] = (app, operation)
            return (200 if existing else 201), app, operation

    def __enter__(self) -> "ContainerAppsApp":
        self.runtime.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.runtime.close()

    def handle(self, request: Request) -> Response:
        """Authenticate, route, run; an ArmError becomes its CloudError reply, logged as `<operation>:<code>`."""
        name = "Authenticate"
        try:
            self._authorize(request)
            name, handler, match = self._route(request)
            if match["sub"] != self.subscription:
                raise ArmError(404, "SubscriptionNotFound", f"The subscription '{match['sub']}' could not be found.")
            with self.lock:
                return handler(request, match)
        except ArmError as error:
            response = self.error(error.status, error.code, error.message)
            response.operation = f"{name}:{error.code}"
            return response

    def error(self, status: int, code: str, message: str) -> Response:
        """An ARM CloudError reply."""
        return error_reply(status, code, message)

    def _authorize(self, request: Request) -> None:
        """401 without a valid ARM token (the token is never echoed)."""
        authorize(self.tokens, request, ARM_AUDIENCE)

    def _route(self, request: Request) -> tuple[str, Handler, "re.Match[str]"]:
        if request.query.get("api-version") != API_VERSION:
            raise ArmError(400, "InvalidApiVersionParameter", f"api-version must be {API_VERSION}")
        for method, pattern, name, handler in self.routes:
            if method == request.method and (match := pattern.match(request.path)):
                if set(request.query) != {"api-version"}:
                    raise ArmError(400, "NotSimulated", f"query {sorted(request.query)} of {name} is not simulated")
                return name, handler, match
        raise ArmError(400, "NotSimulated", f"{request.method} {request.path} is not simulated")

    def _find(self, match: "re.Match[str]") -> AppRecord:
        app = self.apps.get((match["rg"].lower(), match["app"].lower()))
        if app is None:
            raise not_found("containerApps", match["app"], match["rg"])
        return app

    def _lro_headers(self, request: Request, operation: Operation, location: bool) -> dict[str, str]:
        base = f"https://{request.header('Host')}"
        headers = {"Azure-AsyncOperation": operation_url(base, operation, "containerappOperationStatuses"),
                   "Retry-After": str(self.retry_after_s)}
        if location:
            headers["Location"] = operation_url(base, operation, "containerappOperationResults")
        return headers

    def _get_app(self, request: Request, match: "re.Match[str]") -> Response:
        return json_reply(200, "GetContainerApp", self._find(match).body())

    def _put_app(self, request: Request, match: "re.Match[str]") -> Response:
        status, app, operation = self.put_app(match["rg"], match["app"], request_document(request.body))
        headers = self._lro_headers(request, operation, False)
        return json_reply(status, "CreateOrUpdateContainerApp", app.body(), headers)

    def _environment(self, match: "re.Match[str]") -> EnvironmentRecord:
        environment = self.environments.get((match["rg"].lower(), match["env"].lower()))
        if environment is None:
            raise not_found("managedEnvironments", match["env"], match["rg"])
        return environment

    def _get_environment(self, request: Request, match: "re.Match[str]") -> Response:
        return json_reply(200, "GetManagedEnvironment", self._environment(match).body())

    def _put_environment(self, request: Request, match: "re.Match[str]") -> Response:
        status, environment = self.put_environment(match["rg"], match["env"], json_body(request.body))
        return json_reply(status, "CreateOrUpdateManagedEnvironment", environment.body())

    def _get_storage(self, request: Request, match: "re.Match[str]") -> Response:
        environment = self._environment(match)
        storage = environment.storages.get(match["storage"])
        if storage is None:
            raise not_found(f"managedEnvironments/{environment.name}/storages", match["storage"], match["rg"])
        return json_reply(200, "GetManagedEnvironmentStorage", storage.body(environment.id))

    def _put_storage(self, request: Request, match: "re.Match[str]") -> Response:
        environment = self._environment(match)
        status, storage = self.put_storage(match["rg"], match["env"], match["storage"], json_body(request.body))
        return json_reply(status, "CreateOrUpdateManagedEnvironmentStorage", storage.body(environment.id))

    def _patch_app(self, request: Request, match: "re.Match[str]") -> Response:
        app = self._find(match)
        document = merge_patch(app.document, request_document(request.body))
        properties = document.get("properties") or {}
        environment = self.environment_of(properties.get("environmentId") or properties.get("managedEnvironmentId"))
        if environment is not None:
            check_placement(app.name, document, environment, self.gpu_quota, revisions_after(app, document))
        operation = apply(app, document, False, self.operation_seconds)
        self.operations[operation.id] = (app, operation)
        return json_reply(202, "UpdateContainerApp", None, self._lro_headers(request, operation, True))

    def _list_secrets(self, request: Request, match: "re.Match[str]") -> Response:
        secrets = [{"name": name, "value": value} for name, value in self._find(match).secrets().items()]
        return json_reply(200, "ListSecrets", {"value": secrets})

    def _list_revisions(self, request: Request, match: "re.Match[str]") -> Response:
        app = self._find(match)
        weights = app.weights()
        revisions = [r.body(app.id, weights.get(r.name, 0)) for r in app.revisions.values()]
        return json_reply(200, "ListRevisions", {"value": revisions})

    def _revision(self, match: "re.Match[str]") -> tuple[AppRecord, RevisionRecord]:
        app = self._find(match)
        revision = app.revisions.get(match["rev"])
        if revision is None:
            raise not_found(f"containerApps/{app.name}/revisions", match["rev"], app.resource_group)
        return app, revision

    def _get_revision(self, request: Request, match: "re.Match[str]") -> Response:
        app, revision = self._revision(match)
        return json_reply(200, "GetRevision", revision.body(app.id, app.weights().get(revision.name, 0)))

    def _restart_revision(self, request: Request, match: "re.Match[str]") -> Response:
        _, revision = self._revision(match)
        if not revision.active:
            raise ArmError(400, "ContainerAppRevisionInactive", f"Revision {revision.name} is inactive: activate it")
        revision.generation += 1
        revision.running_state, revision.health_state, revision.provisioning_error = "Processing", "None", None
        if revision.provisioning_state == "Failed":
            revision.provisioning_state = "Provisioning"
        revision.replica = ReplicaView(f"{revision.name}-r{revision.generation}")
        return json_reply(200, "RestartRevision")

    def _activate_revision(self, request: Request, match: "re.Match[str]") -> Response:
        _, revision = self._revision(match)
        if not revision.active:
            revision.active, revision.generation, revision.running_state = True, revision.generation + 1, "Processing"
            revision.health_state, revision.replica = "None", ReplicaView(f"{revision.name}-a{revision.generation}")
        return json_reply(200, "ActivateRevision")

    def _deactivate_revision(self, request: Request, match: "re.Match[str]") -> Response:
        app, revision = self._revision(match)
        if app.weights().get(revision.name):
            raise ArmError(400, "ContainerAppRevisionHasTraffic",
                           f"Revision {revision.name} receives traffic: move its traffic before deactivating it")
        deactivate(revision)
        return json_reply(200, "DeactivateRevision")

    def _list_replicas(self, request: Request, match: "re.Match[str]") -> Response:
        app, revision = self._revision(match)
        container = revision.template["containers"][0]["name"]
        view, where = revision.replica, f"{app.id}/revisions/{revision.name}"
        count = max(revision.replica_count(), 1) if view else 0
        replicas = [view.body(where, container, index) for index in range(count)] if view else []
        return json_reply(200, "ListReplicas", {"value": replicas})

    def _operation(self, match: "re.Match[str]") -> tuple[AppRecord, Operation]:
        if match["op"] not in self.operations:
            raise ArmError(404, "OperationNotFound", f"The operation '{match['op']}' was not found.")
        app, operation = self.operations[match["op"]]
        app.settle()
        return app, operation

    def _operation_status(self, request: Request, match: "re.Match[str]") -> Response:
        _, operation = self._operation(match)
        headers = {"Retry-After": str(self.retry_after_s)} if operation.status == "InProgress" else {}
        return json_reply(200, "GetOperationStatus", operation.body(), headers)

    def _operation_result(self, request: Request, match: "re.Match[str]") -> Response:
        app, operation = self._operation(match)
        if operation.status == "InProgress":
            return json_reply(202, "GetOperationResult", None, self._lro_headers(request, operation, True))
        if operation.status == "Succeeded":
            return json_reply(200, "GetOperationResult", app.body())
        error = operation.error or {"code": "Canceled", "message": "The operation was canceled."}
        return json_reply(400, "GetOperationResult", {"error": error})
