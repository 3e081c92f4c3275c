"""The Azure target: the Azure Files share and the container app host, both on the one credential."""

from dataclasses import dataclass

from service_settings import ServiceSettings
from share_layout.file_share import FileShare
from targets.azure.apps import azure_apps
from targets.azure.share import azure_share
from targets.protocol import AppHost


@dataclass(frozen=True)
class AzureTarget:
    """Share and app host of the Azure target."""

    share: FileShare
    apps: AppHost


def azure_target(settings: ServiceSettings) -> AzureTarget:
    """Build the Azure target from settings (clients are built once; no request is sent here)."""
    return AzureTarget(share=azure_share(settings), apps=azure_apps(settings))
