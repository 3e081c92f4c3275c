"""The simulated Azure of the tests, composed without pytest: identity, Azure Files, and ARM with Container Apps.

The same classes and seeds as tests/simulators/azure_fixtures.py (the fine-tuning resource group, environment and
share exist already), behind one throwaway loopback CA. Leaving the context stops every server and every app
process the Container Apps simulator started.
"""

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.simulators.arm import ArmApp, ResourceProviders
from tests.simulators.azure_files import DEFAULT_ACCOUNT, AzureFilesApp
from tests.simulators.azure_fixtures import FINETUNING_ENVIRONMENT
from tests.simulators.container_apps import ContainerAppsApp
from tests.simulators.https_server import HttpsSimulator
from tests.simulators.identity import TOKEN_PATH, ManagedIdentityApp, TokenRegistry
from tests.simulators.simulated_azure import (
    ENVIRONMENT_NAME,
    ENVIRONMENT_STORAGE,
    LOCATION,
    RESOURCE_GROUP,
    SHARE_NAME,
    SUBSCRIPTION_ID,
    SimulatedArm,
    SimulatedAzure,
    SimulatedContainerApps,
)
from tests.simulators.tls import make_loopback_ca


@dataclass(frozen=True)
class Simulators:
    """The running simulators and the environment a Functions host needs to reach them (it holds a secret)."""

    arm: SimulatedArm
    env: dict[str, str]

    @property
    def azure(self) -> SimulatedAzure:
        """Identity and Files."""
        return self.arm.container_apps.azure

    @property
    def share_dir(self) -> Path:
        """The fine-tuning share's backing directory (what the apps mount at /mount)."""
        return self.azure.share_dir


def _environment(identity: HttpsSimulator, files: HttpsSimulator, arm: HttpsSimulator, header_secret: str,
                 bundle: Path) -> dict[str, str]:
    """What tests/simulators/azure_fixtures.py sets (its SIMULATED_ENV), as values for a child process."""
    return {
        "IDENTITY_ENDPOINT": f"{identity.url}{TOKEN_PATH}",
        "IDENTITY_HEADER": header_secret,
        "REQUESTS_CA_BUNDLE": str(bundle),
        "SSL_CERT_FILE": str(bundle),
        "NO_PROXY": "127.0.0.1,localhost",
        "AZURE_FILES_ENDPOINT": f"{files.url}/{DEFAULT_ACCOUNT}",
        "AZURE_FILE_SHARE": SHARE_NAME,
        "AZURE_STORAGE_RETRY_TOTAL": "10",
        "AZURE_STORAGE_RETRY_BACKOFF_SECONDS": "0",
        "AZURE_STORAGE_RETRY_INCREMENT_BASE": "0",
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION_ID,
        "AZURE_RESOURCE_GROUP": RESOURCE_GROUP,
        "AZURE_RESOURCE_MANAGER_ENDPOINT": arm.url,
    }


@contextmanager
def running_simulators(root: Path) -> Iterator[Simulators]:
    """Start every simulator on loopback, with state, certificates and app logs under `root`."""
    (root / "ca").mkdir(parents=True, exist_ok=True)
    ca = make_loopback_ca(root / "ca")
    tokens = TokenRegistry()
    header_secret = secrets.token_urlsafe(16)
    files_app = AzureFilesApp(root / "storage", tokens)
    files_app.ensure_share(DEFAULT_ACCOUNT, SHARE_NAME)  # the fine-tuning share, as fine-tuning left it

    def share_dir(account: str, share: str) -> Path | None:
        return files_app.share_dir(share, account) if account in files_app.stores else None

    with ExitStack() as stack:
        identity = stack.enter_context(HttpsSimulator(ManagedIdentityApp(tokens, header_secret), ca))
        files = stack.enter_context(HttpsSimulator(files_app, ca))
        azure = SimulatedAzure(tokens, identity, files, files_app)
        service = stack.enter_context(ContainerAppsApp(tokens, SUBSCRIPTION_ID, root / "container-apps",
                                                       share_dir=share_dir))
        service.add_environment(RESOURCE_GROUP, ENVIRONMENT_NAME, FINETUNING_ENVIRONMENT,
                                {ENVIRONMENT_STORAGE: azure.share_dir})
        manager = ArmApp(tokens, SUBSCRIPTION_ID, ResourceProviders(SUBSCRIPTION_ID, files_app, service), service)
        manager.add_resource_group(RESOURCE_GROUP, LOCATION)
        arm = stack.enter_context(HttpsSimulator(manager, ca))
        simulated = SimulatedArm(SimulatedContainerApps(azure, arm, service, manager))
        yield Simulators(simulated, _environment(identity, files, arm, header_secret, ca.bundle))
