"""The simulated Azure a test gets: the running simulators, the tokens behind them, and what they were asked."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from service_settings import get_settings
from targets.azure.apps import AzureApps, azure_apps
from targets.azure.share import AzureFileShare, azure_share
from tests.simulators.azure_files import AzureFilesApp
from tests.simulators.container_apps import ContainerAppsApp
from tests.simulators.container_apps.resources import AppRecord
from tests.simulators.https_server import HttpsSimulator, LoggedRequest
from tests.simulators.identity import TokenRegistry

SHARE_NAME = "aifileshare"
SUBSCRIPTION_ID = "5f1c2a7e-93d4-4b8a-a6e2-0c4f1d8b7e31"
RESOURCE_GROUP = "rg-finetune"
ENVIRONMENT_STORAGE = "aienvstorage"
ENVIRONMENT_ID = (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
                  "/providers/Microsoft.App/managedEnvironments/aienv")
UPLOADS = ("CreateFile", "PutRange")


@dataclass(frozen=True)
class Traffic:
    """Requests the Files simulator answered in a window: operations counted, and bytes uploaded."""

    requests: list[LoggedRequest]

    @property
    def operations(self) -> Counter[str]:
        """How many of each operation (errors as `<operation>:<code>`, dropped connections as '')."""
        return Counter(request.operation for request in self.requests)

    @property
    def bytes_uploaded(self) -> int:
        """Request-body bytes of successful Create File and Put Range requests."""
        return sum(r.bytes_in for r in self.requests if r.operation in UPLOADS and r.status in (200, 201))


@dataclass(frozen=True)
class SimulatedAzure:
    """The running simulators, the token registry behind them, and the share they serve."""

    tokens: TokenRegistry
    identity: HttpsSimulator
    files: HttpsSimulator
    files_app: AzureFilesApp

    @property
    def share_dir(self) -> Path:
        """The share's backing directory: what a container app would mount at /mount."""
        return self.files_app.share_dir(SHARE_NAME)

    def share(self) -> AzureFileShare:
        """The production AzureFileShare, built from settings as the Azure target builds it."""
        return azure_share(get_settings())

    def traffic_since(self, mark: int) -> Traffic:
        """Files requests after `mark` (a previous len(files.log))."""
        return Traffic(self.files.log[mark:])


@dataclass(frozen=True)
class SimulatedContainerApps:
    """The Container Apps simulator beside the identity and Files simulators (its apps mount their share)."""

    azure: SimulatedAzure
    arm: HttpsSimulator
    service: ContainerAppsApp

    def apps(self) -> AzureApps:
        """The production AzureApps, built from settings as the Azure target builds it."""
        return azure_apps(get_settings())

    def record(self, app_name: str) -> AppRecord:
        """The simulator's record of an app (states, revisions, port)."""
        return self.service.apps[(RESOURCE_GROUP.lower(), app_name.lower())]

    def operations_since(self, mark: int) -> Counter[str]:
        """ARM operations answered after `mark` (a previous len(arm.log)); errors as `<operation>:<code>`."""
        return Counter(request.operation for request in self.arm.log[mark:])
