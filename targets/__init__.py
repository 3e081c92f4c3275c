"""Targets: where the activities do their I/O (the local embedded default, or Azure)."""

from payloads.steps import AzurePlace
from service_settings import ServiceSettings
from targets.protocol import Target

AZURE_SETTINGS_HELP = "set them as app settings from the outputs of infra/provision/inference.json (see README)"


class TargetNotConfigured(ValueError):
    """A target's settings are missing; names the settings (never their values) and where to get them."""

    def __init__(self, target: str, missing: list[str]) -> None:
        super().__init__(f"target {target!r} is not configured: missing {', '.join(missing)}; {AZURE_SETTINGS_HELP}")
        self.target = target
        self.missing = missing


def missing_azure_settings(settings: ServiceSettings) -> list[str]:
    """The app settings the Azure target needs and lacks (names only)."""
    missing = [] if settings.azure_storage_account or settings.azure_files_endpoint else ["AZURE_STORAGE_ACCOUNT"]
    required = {"AZURE_FILE_SHARE": settings.azure_file_share, "AZURE_SUBSCRIPTION_ID": settings.azure_subscription_id,
                "AZURE_RESOURCE_GROUP": settings.azure_resource_group}
    return missing + [name for name, value in required.items() if not value]


def get_target(name: str, settings: ServiceSettings, place: AzurePlace | None = None) -> Target:
    """Return the target named in the orchestration input; TargetNotConfigured when its settings are missing.

    `place` (a registered Azure app's subscription, group, account and share) is used over the Azure settings, so
    only what it leaves out must be set; the local target ignores it.
    """
    if name == "local":
        from targets.local import local_target

        return local_target(settings)
    if name == "azure":
        from targets.azure.target import azure_target, placed_settings

        if missing := missing_azure_settings(placed_settings(settings, place)):
            raise TargetNotConfigured(name, missing)
        return azure_target(settings, place)
    raise ValueError(f"unknown target {name!r}; supported targets: 'local', 'azure'")
