"""The simulated Azure a test gets: the running simulators, the tokens behind them, and what they were asked."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from service_settings import get_settings
from targets.azure.apps import AzureApps, azure_apps
from targets.azure.share import AzureFileShare, azure_share
from tests.simulators.arm import ArmApp
from tests.simulators.arm.resource_providers import Change
from tests.simulators.azure_files import AzureFilesApp
from tests.simulators.container_apps import ContainerAppsApp
from tests.simulators.container_apps.resources import AppRecord
from tests.simulators.faults import FaultPlan
from tests.simulators.https_server import HttpsSimulator, LoggedRequest
from tests.simulators.identity import TokenRegistry

SHARE_NAME = "aifileshare"
SUBSCRIPTION_ID = "5f1c2a7e-93d4-4b8a-a6e2-0c4f1d8b7e31"
RESOURCE_GROUP = "rg-finetune"
LOCATION = "eastus"
ENVIRONMENT_NAME = "aienv"
ENVIRONMENT_STORAGE = "aienvstorage"
ENVIRONMENT_ID = (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
                  f"/providers/Microsoft.App/managedEnvironments/{ENVIRONMENT_NAME}")
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
    resource_manager: ArmApp

    def apps(self) -> AzureApps:
        """The production AzureApps, built from settings as the Azure target builds it."""
        return azure_apps(get_settings())

    def record(self, app_name: str) -> AppRecord:
        """The simulator's record of an app (states, revisions, port)."""
        return self.service.apps[(RESOURCE_GROUP.lower(), app_name.lower())]

    def operations_since(self, mark: int) -> Counter[str]:
        """ARM operations answered after `mark` (a previous len(arm.log)); errors as `<operation>:<code>`."""
        return Counter(request.operation for request in self.arm.log[mark:])


@dataclass(frozen=True)
class SimulatedArm:
    """ARM deployments beside Container Apps and Files (one HTTPS endpoint for ARM and Microsoft.App paths)."""

    container_apps: SimulatedContainerApps

    @property
    def app(self) -> ArmApp:
        """The ARM simulator (resource groups, deployments, providers)."""
        return self.container_apps.resource_manager

    @property
    def url(self) -> str:
        """The endpoint (what AZURE_RESOURCE_MANAGER_ENDPOINT holds)."""
        return self.container_apps.arm.url

    @property
    def log(self) -> list[LoggedRequest]:
        """Every request the endpoint answered (ARM and Container Apps), operations named."""
        return self.container_apps.arm.log

    def operations_since(self, mark: int) -> Counter[str]:
        """Operations answered after `mark` (a previous len(log)); errors as `<operation>:<code>`."""
        return self.container_apps.operations_since(mark)

    @property
    def changes(self) -> list[Change]:
        """Every resource write deployments made: Create or Update, and the resource ID."""
        return list(self.app.providers.changes)

    def set_faults(self, faults: FaultPlan | None) -> None:
        """Inject faults into requests to the endpoint (None: none)."""
        self.container_apps.arm.faults = faults

    def set_gpu_quota(self, instances: int | None) -> None:
        """GPU instances a container app may use (None: unlimited); beyond it MaxRegionalQuotaExceeded."""
        self.container_apps.service.gpu_quota = instances

    def take_storage_name(self, name: str) -> None:
        """A storage account name another subscription holds (StorageAccountAlreadyTaken)."""
        self.app.providers.taken_storage_names.add(name)

    def files_endpoint(self, account: str) -> str:
        """AZURE_FILES_ENDPOINT for a storage account a deployment created."""
        return f"{self.container_apps.azure.files.url}/{account}"

    def share_dir(self, account: str, share: str) -> Path:
        """The backing directory of a share a deployment created (what the app mounts)."""
        return self.container_apps.azure.files_app.share_dir(share, account)
