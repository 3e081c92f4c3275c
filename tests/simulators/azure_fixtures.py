"""Pytest fixtures for simulated Azure (load with `pytest_plugins`): identity, Azure Files, and ARM with Container Apps.

The environment is set the way Azure sets it for an App Service managed identity (IDENTITY_ENDPOINT, IDENTITY_HEADER),
so DefaultAzureCredential reaches its managed-identity credential unmodified: the variables that would configure an
earlier credential in its chain (service principal, workload identity) or another managed-identity flavour are
removed. Clients trust the loopback CA through REQUESTS_CA_BUNDLE and SSL_CERT_FILE, with TLS verification on.
"""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from service_settings import get_settings
from targets.azure.clients import (
    arm_container_apps_client,
    arm_deployments_client,
    arm_resources_client,
    default_credential,
    share_client,
)
from tests.simulators.arm import ArmApp, ResourceProviders
from tests.simulators.azure_files import DEFAULT_ACCOUNT, AzureFilesApp
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
from tests.simulators.tls import LoopbackCA, make_loopback_ca

FINETUNING_ENVIRONMENT = {"location": LOCATION, "properties": {"workloadProfiles": [
    {"workloadProfileType": "Consumption", "name": "Consumption"},
    {"workloadProfileType": "NC24-A100", "name": "GPU", "minimumCount": 0, "maximumCount": 2}]}}
"""The environment fine-tuning made (inference.bicep's dedicated GPU profile), which tests' apps run in."""
OTHER_CREDENTIAL_ENV = (
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_TOKEN_CREDENTIALS", "AZURE_AUTHORITY_HOST", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
    "IDENTITY_SERVER_THUMBPRINT", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
)  # fmt: skip


@pytest.fixture(scope="session")
def loopback_ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    """One test CA for the session."""
    return make_loopback_ca(tmp_path_factory.mktemp("loopback-ca"))


@pytest.fixture
def simulated_azure(
    loopback_ca: LoopbackCA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SimulatedAzure]:
    """Identity endpoint + Azure Files simulators, the environment pointing at them, and the share created."""
    tokens = TokenRegistry()
    secret = secrets.token_urlsafe(16)
    files_app = AzureFilesApp(tmp_path / "storage", tokens)
    with (
        HttpsSimulator(ManagedIdentityApp(tokens, secret), loopback_ca) as identity,
        HttpsSimulator(files_app, loopback_ca) as files,
    ):
        for name in OTHER_CREDENTIAL_ENV:
            monkeypatch.delenv(name, raising=False)
        environment = {
            "IDENTITY_ENDPOINT": f"{identity.url}{TOKEN_PATH}",
            "IDENTITY_HEADER": secret,
            "REQUESTS_CA_BUNDLE": str(loopback_ca.bundle),
            "SSL_CERT_FILE": str(loopback_ca.bundle),
            "NO_PROXY": "127.0.0.1,localhost",
            "AZURE_FILES_ENDPOINT": f"{files.url}/{DEFAULT_ACCOUNT}",
            "AZURE_FILE_SHARE": SHARE_NAME,
            "AZURE_STORAGE_RETRY_TOTAL": "10",
            "AZURE_STORAGE_RETRY_BACKOFF_SECONDS": "0",
            "AZURE_STORAGE_RETRY_INCREMENT_BASE": "0",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        default_credential.cache_clear()
        share_client(get_settings()).create_share()  # what provisioning does
        yield SimulatedAzure(tokens, identity, files, files_app)
    get_settings.cache_clear()
    default_credential.cache_clear()


@pytest.fixture
def simulated_container_apps(
    simulated_azure: SimulatedAzure, loopback_ca: LoopbackCA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SimulatedContainerApps]:
    """Container Apps behind the simulated ARM over HTTPS (one endpoint, as management.azure.com); settings point at it.

    The resource group and the fine-tuning environment (its storage mounting the simulated share) exist already.
    Leaving the fixture stops every app process the simulator started.
    """
    files_app = simulated_azure.files_app

    def share_dir(account: str, share: str) -> Path | None:
        return files_app.share_dir(share, account) if account in files_app.stores else None

    with ContainerAppsApp(simulated_azure.tokens, SUBSCRIPTION_ID, tmp_path / "container-apps",
                          share_dir=share_dir) as service:
        service.add_environment(RESOURCE_GROUP, ENVIRONMENT_NAME, FINETUNING_ENVIRONMENT,
                                {ENVIRONMENT_STORAGE: simulated_azure.share_dir})
        resource_manager = ArmApp(simulated_azure.tokens, SUBSCRIPTION_ID,
                                  ResourceProviders(SUBSCRIPTION_ID, files_app, service), service)
        resource_manager.add_resource_group(RESOURCE_GROUP, LOCATION)
        with HttpsSimulator(resource_manager, loopback_ca) as arm:
            monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION_ID)
            monkeypatch.setenv("AZURE_RESOURCE_GROUP", RESOURCE_GROUP)
            monkeypatch.setenv("AZURE_RESOURCE_MANAGER_ENDPOINT", arm.url)
            get_settings.cache_clear()
            arm_container_apps_client.cache_clear()
            yield SimulatedContainerApps(simulated_azure, arm, service, resource_manager)
    get_settings.cache_clear()
    arm_container_apps_client.cache_clear()


@pytest.fixture
def simulated_arm(simulated_container_apps: SimulatedContainerApps) -> Iterator[SimulatedArm]:
    """ARM (resource groups, deployments that really deploy templates into the Files and Container Apps simulators).

    Same endpoint and environment as simulated_container_apps: AZURE_RESOURCE_MANAGER_ENDPOINT, AZURE_SUBSCRIPTION_ID
    and AZURE_RESOURCE_GROUP (a group that exists, with the fine-tuning environment in it).
    """
    arm_resources_client.cache_clear()
    arm_deployments_client.cache_clear()
    yield SimulatedArm(simulated_container_apps)
    arm_resources_client.cache_clear()
    arm_deployments_client.cache_clear()


SIMULATED_ENV = (
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NO_PROXY", "AZURE_FILES_ENDPOINT",
    "AZURE_FILE_SHARE", "AZURE_STORAGE_RETRY_TOTAL", "AZURE_STORAGE_RETRY_BACKOFF_SECONDS",
    "AZURE_STORAGE_RETRY_INCREMENT_BASE", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP",
    "AZURE_RESOURCE_MANAGER_ENDPOINT",
)  # fmt: skip


@pytest.fixture
def simulated_azure_env(simulated_container_apps: SimulatedContainerApps) -> dict[str, str]:
    """The environment the fixtures set, for a child process (the Functions host) to reach the same simulators."""
    return {name: os.environ[name] for name in SIMULATED_ENV}
