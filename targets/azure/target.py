"""The Azure target: the Azure Files share and the container app host, both on the one credential.

A registered app's place (payloads.steps.AzurePlace: subscription, resource group, storage account, file share) is
used over the app settings; with AZURE_FILES_ENDPOINT set, the place's account replaces the endpoint's (see
clients.account_endpoint). Each target is built for one place, so no client of one account serves another.
"""

from dataclasses import dataclass
from typing import Any

from payloads.steps import AzurePlace
from service_settings import ServiceSettings
from share_layout.file_share import FileShare
from targets.azure.apps import azure_apps
from targets.azure.clients import account_endpoint
from targets.azure.share import azure_share
from targets.protocol import AppHost


@dataclass(frozen=True)
class AzureTarget:
    """Share and app host of the Azure target."""

    share: FileShare
    apps: AppHost


def placed_settings(settings: ServiceSettings, place: AzurePlace | None) -> ServiceSettings:
    """The settings with the place's subscription, group, account and share over the app settings' (None: as is)."""
    if place is None:
        return settings
    update: dict[str, Any] = {
        "azure_subscription_id": place.subscription_id, "azure_resource_group": place.resource_group,
        "azure_storage_account": place.storage_account, "azure_file_share": place.file_share,
    }
    if settings.azure_files_endpoint:
        update["azure_files_endpoint"] = account_endpoint(settings.azure_files_endpoint, place.storage_account)
    return settings.model_copy(update=update)


def azure_target(settings: ServiceSettings, place: AzurePlace | None = None) -> AzureTarget:
    """Build the Azure target from settings, or from a registered app's place over them (clients are built once;
    no request is sent here)."""
    placed = placed_settings(settings, place)
    return AzureTarget(share=azure_share(placed), apps=azure_apps(placed))
