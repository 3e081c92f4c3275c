"""Managed environments and their Azure Files storages: PUT and GET, sync (201/200 with provisioningState Succeeded).

An environment's workload profiles are checked as Container Apps checks them: a known profile type, a unique name,
minimumCount/maximumCount only on Dedicated profiles (and min <= max), and the one Consumption profile. An environment
storage maps to a directory: the Files simulator's backing directory of the share it names (`share_dir(account,
share)`), which is what an app's AzureFile volume of that storage mounts. The storage's accountKey is write-only, as
in Azure (GET never returns it).
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.mgmt.appcontainers import models

from tests.simulators.container_apps.replies import PROVIDER, ArmError, now
from tests.simulators.container_apps.schema import writable_document

ENVIRONMENT_TYPE = f"{PROVIDER}/managedEnvironments"
DEDICATED_TYPES = ("D4", "D8", "D16", "D32", "E4", "E8", "E16", "E32", "NC24-A100", "NC48-A100", "NC96-A100")
SERVERLESS_TYPES = ("Consumption", "Consumption-GPU-NC24-A100", "Consumption-GPU-NC8as-T4")
GPU_TYPES = ("NC24-A100", "NC48-A100", "NC96-A100", "Consumption-GPU-NC24-A100", "Consumption-GPU-NC8as-T4")
ShareResolver = Callable[[str, str], Path | None]


def request_body(document: Any, model: type, kind: str) -> dict[str, Any]:
    """A write's body without read-only properties; 400 naming any property the api-version does not define."""
    kept, unknown = writable_document(document, model)
    if unknown:
        raise ArmError(400, "InvalidRequestContent",
                       f"The {kind} request content has properties api-version 2026-07-01 does not define: {unknown}")
    return kept


@dataclass
class StorageRecord:
    """One environment storage: its document (account key included) and the directory it mounts."""

    name: str
    document: dict[str, Any]
    path: Path | None

    def body(self, environment_id: str) -> dict[str, Any]:
        """The ManagedEnvironmentStorage resource, account key withheld."""
        document = copy.deepcopy(self.document)
        azure_file = document.get("properties", {}).get("azureFile")
        if isinstance(azure_file, dict):
            azure_file.pop("accountKey", None)
        return {"id": f"{environment_id}/storages/{self.name}", "name": self.name,
                "type": f"{ENVIRONMENT_TYPE}/storages", **document}


@dataclass
class EnvironmentRecord:
    """One managed environment: its document and its storages."""

    subscription: str
    resource_group: str
    name: str
    document: dict[str, Any]
    storages: dict[str, StorageRecord] = field(default_factory=dict)
    created: str = field(default_factory=now)

    @property
    def id(self) -> str:
        """The environment's resource ID."""
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
                f"{ENVIRONMENT_TYPE}/{self.name}")

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Workload profiles by name."""
        listed = self.document.get("properties", {}).get("workloadProfiles") or []
        return {str(profile.get("name")): profile for profile in listed}

    def mounts(self) -> dict[str, Path]:
        """{storage name: backing directory} of the storages that resolve to a share."""
        return {name: record.path for name, record in self.storages.items() if record.path is not None}

    def body(self) -> dict[str, Any]:
        """The ManagedEnvironment resource with its read-only properties."""
        document = copy.deepcopy(self.document)
        properties = document.setdefault("properties", {})
        log_config = (properties.get("appLogsConfiguration") or {}).get("logAnalyticsConfiguration")
        if isinstance(log_config, dict):
            log_config.pop("sharedKey", None)
        properties.update(provisioningState="Succeeded", defaultDomain=f"{self.name}.simulated.azurecontainerapps.io",
                          staticIp="127.0.0.1")
        return {"id": self.id, "name": self.name, "type": ENVIRONMENT_TYPE, **document}


def check_profiles(document: dict[str, Any]) -> None:
    """400 for workload profiles Container Apps refuses."""
    profiles = document.get("properties", {}).get("workloadProfiles") or []
    names = [str(profile.get("name")) for profile in profiles]
    if len(set(names)) != len(names):
        raise ArmError(400, "ManagedEnvironmentInvalidWorkloadProfile", f"Workload profile names repeat: {names}")
    for profile in profiles:
        kind = str(profile.get("workloadProfileType"))
        known = DEDICATED_TYPES + SERVERLESS_TYPES
        if kind not in known:
            raise ArmError(400, "InvalidWorkloadProfileType",
                           f"Workload profile type '{kind}' is not supported in location "
                           f"'{document.get('location')}'. Supported types: {', '.join(known)}.")
        if kind in SERVERLESS_TYPES:
            for count in ("minimumCount", "maximumCount"):
                if count in profile:
                    raise ArmError(400, "ManagedEnvironmentInvalidWorkloadProfile",
                                   f"Workload Profile property '{count[0].upper()}{count[1:]}' is not supported for "
                                   f"{kind.replace('-', '_')}")
        elif int(profile.get("minimumCount") or 0) > int(profile.get("maximumCount") or 0):
            raise ArmError(400, "ManagedEnvironmentInvalidWorkloadProfile",
                           f"Workload profile '{profile.get('name')}': minimumCount exceeds maximumCount")
    if names and "Consumption" not in [profile.get("workloadProfileType") for profile in profiles]:
        raise ArmError(400, "ManagedEnvironmentInvalidWorkloadProfile",
                       "A workload profile environment needs the Consumption profile")


def environment_document(body: Any) -> dict[str, Any]:
    """A managed environment PUT body, checked."""
    document = request_body(body, models.ManagedEnvironment, "managed environment")
    if not document.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    check_profiles(document)
    return document


def storage_document(body: Any) -> dict[str, Any]:
    """An environment storage PUT body, checked (an AzureFile storage needs account, key, share and access mode)."""
    document = request_body(body, models.ManagedEnvironmentStorage, "environment storage")
    azure_file = document.get("properties", {}).get("azureFile")
    if not isinstance(azure_file, dict):
        raise ArmError(400, "NotSimulated", "only AzureFile environment storages are simulated")
    missing = [name for name in ("accountName", "accountKey", "shareName", "accessMode") if not azure_file.get(name)]
    if missing:
        raise ArmError(400, "ManagedEnvironmentStorageInvalid", f"properties.azureFile needs {missing}")
    return document
