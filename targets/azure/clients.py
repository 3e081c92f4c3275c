"""The Azure target's one credential and its client factory; endpoints and retries come from settings."""

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from azure.identity import DefaultAzureCredential
from azure.mgmt.appcontainers import ContainerAppsAPIClient
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.storage.fileshare import ExponentialRetry, ShareClient

from service_settings import ServiceSettings

RANGE_BYTES = 4 * 1024 * 1024
"""Azure Files' largest Put Range, used for ranged downloads too (parallel 4 MiB GETs instead of one 32 MiB GET)."""


@lru_cache(maxsize=1)
def default_credential() -> DefaultAzureCredential:
    """The process's one credential: the managed identity in Azure, a developer's login elsewhere."""
    return DefaultAzureCredential()


def files_account_url(settings: ServiceSettings) -> str:
    """The Files account URL: the explicit endpoint, else https://<account>.<suffix>."""
    if settings.azure_files_endpoint:
        return settings.azure_files_endpoint.rstrip("/")
    if not settings.azure_storage_account:
        raise ValueError(
            "no Azure Files endpoint: set AZURE_STORAGE_ACCOUNT to the storage account holding the share "
            "(provision's STORAGE_ACCOUNT_NAME output), or AZURE_FILES_ENDPOINT to the Files account URL"
        )
    return f"https://{settings.azure_storage_account}.{settings.azure_storage_endpoint_suffix}"


def account_endpoint(endpoint: str, account: str) -> str:
    """AZURE_FILES_ENDPOINT turned to storage account `account` (a registered app's): a path-style endpoint (a path,
    or an IP, localhost or dotless host: https://127.0.0.1:<port>/<account>, the simulated Files service) gets the
    account as its path; a host-style one (https://<account>.<suffix>) gets it as its host's first label."""
    parts = urlsplit(endpoint.rstrip("/"))
    host = parts.hostname or ""
    if parts.path.strip("/") or "." not in host or _is_ip(host):
        return f"{parts.scheme}://{parts.netloc}/{account}"
    return f"{parts.scheme}://{account}.{parts.netloc.split('.', 1)[1]}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def storage_retry(settings: ServiceSettings) -> ExponentialRetry:
    """The SDK's own retry policy (408/5xx and connection errors; Azure Storage throttles with 503), from settings."""
    total = settings.azure_storage_retry_total
    return ExponentialRetry(
        initial_backoff=settings.azure_storage_retry_backoff_seconds,
        increment_base=settings.azure_storage_retry_increment_base,
        retry_total=total,
        random_jitter_range=settings.azure_storage_retry_backoff_seconds // 5,
        retry_connect=total,
        retry_read=total,
        retry_status=total,
    )


def share_client(settings: ServiceSettings, share_name: str | None = None) -> ShareClient:
    """A client for the share, authenticated by the one credential with the backup intent that OAuth requires."""
    name = share_name or settings.azure_file_share
    if not name:
        raise ValueError("no file share named: set AZURE_FILE_SHARE to the share (provision's FILE_SHARE_NAME output)")
    return ShareClient(
        files_account_url(settings),
        name,
        credential=default_credential(),
        token_intent="backup",
        retry_policy=storage_retry(settings),
        max_single_get_size=RANGE_BYTES,
        max_chunk_get_size=RANGE_BYTES,
    )


def required(value: str | None, message: str) -> str:
    """A setting that the Azure target cannot do without; ValueError with `message` (what to set) when missing."""
    if not value:
        raise ValueError(message)
    return value


def container_apps_client(settings: ServiceSettings) -> ContainerAppsAPIClient:
    """The Container Apps management client for the subscription in settings (one per endpoint, built once)."""
    subscription = required(
        settings.azure_subscription_id,
        "no Azure subscription: set AZURE_SUBSCRIPTION_ID to the container app's subscription "
        "(provision's SUBSCRIPTION_ID output)",
    )
    endpoint = settings.azure_resource_manager_endpoint.rstrip("/")
    return arm_container_apps_client(subscription, endpoint, settings.azure_resource_manager_audience.rstrip("/"))


@lru_cache(maxsize=4)
def arm_container_apps_client(subscription: str, endpoint: str, audience: str) -> ContainerAppsAPIClient:
    """A ContainerAppsAPIClient on the one credential; azure-core's ARM pipeline retries 408/429/5xx itself."""
    return ContainerAppsAPIClient(
        default_credential(), subscription, base_url=endpoint, credential_scopes=[f"{audience}/.default"]
    )


def arm_endpoint(settings: ServiceSettings) -> tuple[str, str]:
    """The ARM base URL and token audience from settings (the public cloud's by default)."""
    return (settings.azure_resource_manager_endpoint.rstrip("/"),
            settings.azure_resource_manager_audience.rstrip("/"))


@lru_cache(maxsize=4)
def arm_resources_client(subscription: str, endpoint: str, audience: str) -> ResourceManagementClient:
    """Resource groups (azure-mgmt-resource 26) on the one credential; one client per subscription and endpoint."""
    return ResourceManagementClient(
        default_credential(), subscription, base_url=endpoint, credential_scopes=[f"{audience}/.default"]
    )


@lru_cache(maxsize=4)
def arm_deployments_client(subscription: str, endpoint: str, audience: str) -> DeploymentsMgmtClient:
    """ARM template deployments (azure-mgmt-resource-deployments) on the one credential."""
    return DeploymentsMgmtClient(
        default_credential(), subscription, base_url=endpoint, credential_scopes=[f"{audience}/.default"]
    )
