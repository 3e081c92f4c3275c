"""The local target: the share is a directory, the container app a supervised local process."""

from dataclasses import dataclass

from service_settings import ServiceSettings
from targets.local.apps import LocalApps
from targets.local.share import LocalShare


@dataclass(frozen=True)
class LocalTarget:
    """Share and app host of the local target."""

    share: LocalShare
    apps: LocalApps


def local_target(settings: ServiceSettings) -> LocalTarget:
    """Build the local target from settings."""
    share = LocalShare(settings.share_dir)
    return LocalTarget(share=share, apps=LocalApps(settings.apps_dir, share, settings.inference_python))
