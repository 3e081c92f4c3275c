"""The resource providers behind a deployment: each resource type's write, read and listKeys, in the simulators.

Microsoft.Storage/storageAccounts (a new account is served by the Files simulator; a generated key, never logged),
its fileServices and fileServices/shares (an existing share is left as it is: incremental), and
Microsoft.OperationalInsights/workspaces (a customerId and shared keys) are kept here.
Microsoft.App/managedEnvironments, managedEnvironments/storages and containerApps are written through the Container
Apps simulator, a container app waiting for its asynchronous operation as ARM does. Any other type fails naming it.
`changes` records each write as Create (the resource was new) or Update.
"""

import base64
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.simulators.arm.schema import check_api_version
from tests.simulators.azure_files import AzureFilesApp
from tests.simulators.container_apps import ContainerAppsApp
from tests.simulators.container_apps.replies import ArmError, now
from tests.simulators.container_apps.writes import app_document

STORAGE = "microsoft.storage/storageaccounts"
STORAGE_NAME_RULE = "between 3 and 24 characters in length and use numbers and lower-case letters only"
APP_WAIT_S = 600.0


@dataclass(frozen=True)
class Change:
    """One resource write: Create or Update, and the resource ID."""

    action: str
    resource_id: str


@dataclass
class Stored:
    """A resource this module keeps: its body and (storage accounts, workspaces) its keys."""

    body: dict[str, Any]
    keys: dict[str, Any]


def _segments(resource_id: str) -> tuple[str, str, list[str]]:
    """(resource group, type, names) of a resource-group-scoped ID."""
    parts = resource_id.strip("/").split("/")
    if len(parts) < 8 or parts[0].lower() != "subscriptions" or parts[4].lower() != "providers":
        raise ArmError(400, "InvalidResourceId", f"'{resource_id}' is not a resource ID in a resource group")
    namespace, rest = parts[5], parts[6:]
    return parts[3], "/".join([namespace, *rest[0::2]]), rest[1::2]


class ResourceProviders:
    """Resource writes and reads for one subscription, over the Files and Container Apps simulators."""

    def __init__(self, subscription: str, files: AzureFilesApp, container_apps: ContainerAppsApp) -> None:
        self.subscription = subscription
        self.files = files
        self.container_apps = container_apps
        self.taken_storage_names: set[str] = set()
        self.changes: list[Change] = []
        self._stored: dict[str, Stored] = {}
        self._lock = threading.RLock()
        self._writers: dict[str, Callable[[str, str, list[str], dict[str, Any]], tuple[bool, dict[str, Any]]]] = {
            STORAGE: self._storage_account,
            f"{STORAGE}/fileservices": self._file_service,
            f"{STORAGE}/fileservices/shares": self._share,
            "microsoft.operationalinsights/workspaces": self._workspace,
            "microsoft.app/managedenvironments": self._environment,
            "microsoft.app/managedenvironments/storages": self._environment_storage,
            "microsoft.app/containerapps": self._container_app,
        }

    def put(self, resource_id: str, api_version: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Create or update a resource: 201 or 200 and its body; ArmError when the provider refuses or fails."""
        group, kind, names = _segments(resource_id)
        check_api_version(kind, api_version)
        writer = self._writers.get(kind.lower())
        if writer is None:
            raise ArmError(400, "NoRegisteredProviderFound", f"The resource type '{kind}' is not simulated.")
        created, result = writer(group, resource_id, names, body)
        with self._lock:
            self.changes.append(Change("Create" if created else "Update", resource_id))
        return (201 if created else 200), result

    def get(self, resource_id: str) -> dict[str, Any]:
        """A resource's body; 404 ResourceNotFound."""
        group, kind, names = _segments(resource_id)
        with self._lock:
            stored = self._stored.get(resource_id.lower())
        if stored is not None:
            return stored.body
        apps = self.container_apps
        with apps.lock:
            environment = apps.environments.get((group.lower(), names[0].lower()))
            if kind.lower() == "microsoft.app/managedenvironments" and environment is not None:
                return environment.body()
            storage = environment.storages.get(names[-1]) if environment is not None else None
            if kind.lower() == "microsoft.app/managedenvironments/storages" and environment and storage:
                return storage.body(environment.id)
            app = apps.apps.get((group.lower(), names[0].lower()))
            if kind.lower() == "microsoft.app/containerapps" and app is not None:
                return app.body()
        raise ArmError(404, "ResourceNotFound",
                       f"The Resource '{kind}/{'/'.join(names)}' under resource group '{group}' was not found.")

    def list_keys(self, resource_id: str) -> dict[str, Any]:
        """listKeys of a storage account or workspace."""
        self.get(resource_id)
        with self._lock:
            stored = self._stored.get(resource_id.lower())
        if stored is None or not stored.keys:
            raise ArmError(400, "NotSimulated", f"listKeys of '{resource_id}' is not simulated")
        return stored.keys

    def _keep(self, resource_id: str, body: dict[str, Any], keys: dict[str, Any] | None) -> tuple[bool, Stored]:
        with self._lock:
            existing = self._stored.get(resource_id.lower())
            if existing is not None:
                existing.body = {**existing.body, **body, "properties": {
                    **existing.body.get("properties", {}), **body.get("properties", {})}}
                return False, existing
            self._stored[resource_id.lower()] = Stored(body, keys or {})
            return True, self._stored[resource_id.lower()]

    @staticmethod
    def _resource(resource_id: str, kind: str, name: str, body: dict[str, Any], **read_only: Any) -> dict[str, Any]:
        properties = {**(body.get("properties") or {}), "provisioningState": "Succeeded", **read_only}
        return {**body, "id": resource_id, "name": name, "type": kind, "properties": properties}

    def _parent(self, resource_id: str, group: str, account: str) -> None:
        parent = "/".join(resource_id.split("/")[:9])
        with self._lock:
            if parent.lower() not in self._stored:
                raise ArmError(404, "ParentResourceNotFound",
                               f"Can not perform requested operation on nested resource. Parent resource '{account}' "
                               "not found.")

    def _storage_account(self, group: str, resource_id: str, names: list[str],
                         body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        name = names[0]
        if not (3 <= len(name) <= 24 and name.isalnum() and name == name.lower() and name.isascii()):
            raise ArmError(400, "AccountNameInvalid",
                           f"{name} is not a valid storage account name. Storage account name must be "
                           f"{STORAGE_NAME_RULE}.")
        with self._lock:
            exists = resource_id.lower() in self._stored
        if name in self.taken_storage_names and not exists:
            raise ArmError(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
        if not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        keys = {"keys": [{"keyName": key, "value": base64.b64encode(secrets.token_bytes(64)).decode(),
                          "permissions": "FULL", "creationTime": now()} for key in ("key1", "key2")]}
        endpoints = {"file": f"https://{name}.file.core.windows.net/"}
        created, stored = self._keep(resource_id, self._resource(
            resource_id, "Microsoft.Storage/storageAccounts", name, body, primaryEndpoints=endpoints), keys)
        self.files.add_account(name)
        return created, stored.body

    def _file_service(self, group: str, resource_id: str, names: list[str],
                      body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        if names[1] != "default":
            raise ArmError(400, "InvalidResourceName", "The file service of a storage account is named 'default'.")
        self._parent(resource_id, group, names[0])
        created, stored = self._keep(resource_id, self._resource(
            resource_id, "Microsoft.Storage/storageAccounts/fileServices", names[1], body), None)
        return created, stored.body

    def _share(self, group: str, resource_id: str, names: list[str],
               body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        self._parent(resource_id, group, names[0])
        self.files.add_account(names[0])
        created = self.files.ensure_share(names[0], names[2])
        _, stored = self._keep(resource_id, self._resource(
            resource_id, "Microsoft.Storage/storageAccounts/fileServices/shares", names[2], body), None)
        return created, stored.body

    def _workspace(self, group: str, resource_id: str, names: list[str],
                   body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        if not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        keys = {"primarySharedKey": base64.b64encode(secrets.token_bytes(64)).decode(),
                "secondarySharedKey": base64.b64encode(secrets.token_bytes(64)).decode()}
        with self._lock:
            existing = self._stored.get(resource_id.lower())
        customer = existing.body["properties"]["customerId"] if existing else str(uuid.uuid4())
        created, stored = self._keep(resource_id, self._resource(
            resource_id, "Microsoft.OperationalInsights/workspaces", names[0], body, customerId=customer), keys)
        return created, stored.body

    def _environment(self, group: str, resource_id: str, names: list[str],
                     body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        status, environment = self.container_apps.put_environment(group, names[0], body)
        with self.container_apps.lock:
            return status == 201, environment.body()

    def _environment_storage(self, group: str, resource_id: str, names: list[str],
                             body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        status, storage = self.container_apps.put_storage(group, names[0], names[1], body)
        return status == 201, storage.body(resource_id.rsplit("/storages/", 1)[0])

    def _container_app(self, group: str, resource_id: str, names: list[str],
                       body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        apps = self.container_apps
        status, app, operation = apps.put_app(group, names[0], app_document(body))
        deadline = time.monotonic() + APP_WAIT_S
        while True:
            with apps.lock:
                app.settle()
                if operation.status != "InProgress":
                    break
            if time.monotonic() > deadline:
                raise ArmError(500, "OperationExpired", f"Container app '{names[0]}' did not finish provisioning.")
            time.sleep(0.1)
        if operation.status != "Succeeded":
            error = operation.error or {"code": "Canceled", "message": "The operation was canceled."}
            raise ArmError(400, error["code"], error["message"])
        with apps.lock:
            return status == 201, app.body()
