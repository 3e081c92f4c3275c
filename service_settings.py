"""The function app's one settings object, read from the environment (app settings in Azure)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

FUNCTION_APP_ROOT = Path(__file__).resolve().parent
"""The function app's root: host.json, function_app.py and the packages it imports (inference_container too)."""


class ServiceSettings(BaseSettings):
    """Settings read by HTTP triggers and activities; orchestrators get what they need through input."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    local_target_root: Path = Field(
        default=Path(".local"), description="Where the local target keeps its apps (and its share by default)."
    )
    local_share_dir: Path | None = Field(
        default=None, description="The local target's share directory; defaults to <local_target_root>/share."
    )
    readiness_poll_seconds: int = Field(default=2, ge=1, le=60)
    inference_python: str | None = Field(
        default=None, description="Python interpreter that runs the local inference server (default: this one)."
    )

    azure_storage_account: str | None = Field(
        default=None,
        description="Azure target: the storage account holding the file share (provision's STORAGE_ACCOUNT_NAME).",
    )
    azure_file_share: str | None = Field(
        default=None, description="Azure target: the file share's name (provision's FILE_SHARE_NAME)."
    )
    azure_storage_endpoint_suffix: str = Field(
        default="file.core.windows.net",
        description="Azure target: DNS suffix of the Files endpoint https://<account>.<suffix> (other clouds differ).",
    )
    azure_files_endpoint: str | None = Field(
        default=None,
        description="Azure target: the Files account URL, overriding account and suffix; an IP or localhost host is "
        "path style, https://127.0.0.1:<port>/<account> (the simulated Files service in tests).",
    )
    azure_storage_retry_total: int = Field(
        default=3, ge=0, le=20, description="Azure Files: retries per request on 408/5xx and connection errors."
    )
    azure_storage_retry_backoff_seconds: int = Field(
        default=15, ge=0, description="Azure Files: wait before the first retry (the SDK's default; jitter is 1/5)."
    )
    azure_storage_retry_increment_base: int = Field(
        default=3, ge=0, description="Azure Files: retry n waits backoff + base**n seconds (the SDK's default)."
    )
    azure_files_max_concurrency: int = Field(
        default=8, ge=1, le=32, description="Azure Files: parallel requests for listing, uploads and ranged downloads."
    )
    azure_subscription_id: str | None = Field(
        default=None, description="Azure target: the subscription of the container app (provision's SUBSCRIPTION_ID)."
    )
    azure_resource_group: str | None = Field(
        default=None,
        description="Azure target: the resource group of the container app (provision's RESOURCE_GROUP_NAME).",
    )
    azure_resource_manager_endpoint: str = Field(
        default="https://management.azure.com",
        description="Azure target: the ARM base URL (public cloud by default; the simulated ARM in tests).",
    )
    azure_resource_manager_audience: str = Field(
        default="https://management.azure.com",
        description="Azure target: the audience of ARM tokens (the scope is <audience>/.default; other clouds differ).",
    )
    azure_inference_image: str | None = Field(
        default=None,
        description="Azure target: the inference image a deploy rolls the app onto; unset keeps the app's image.",
    )
    azure_inference_registry_server: str | None = Field(
        default=None, description="Azure target: registry provisioning pulls the image from (empty: a public image)."
    )
    azure_inference_pull_identity_id: str | None = Field(
        default=None, description="Azure target: resource ID of the user-assigned identity that pulls the image."
    )
    azure_inference_api_key: SecretStr | None = Field(
        default=None, description="Azure target: the API key provisioning gives every app (a Key Vault reference in "
        "Azure); unset: an app keeps its key, a new app gets a random one."
    )
    azure_provisioning_poll_seconds: int = Field(
        default=15, ge=1, le=300, description="Azure target: seconds between reads of a running ARM deployment."
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Standard Webhooks secrets of POST /api/webhooks/training-complete, whsec_<base64>; several "
        "space-separated while rotating (a call signed by any of them is accepted). Unset: the webhook answers 503.",
    )
    webhook_target: str | None = Field(
        default=None, pattern="^(local|azure)$",
        description="Target of webhook deploys: 'local' or 'azure'; default 'azure' when the Azure target's settings "
        "are set, else 'local'.",
    )

    @property
    def share_dir(self) -> Path:
        """The directory that plays the Azure Files share for the local target."""
        return (self.local_share_dir or self.local_target_root / "share").resolve()

    @property
    def apps_dir(self) -> Path:
        """Where the local target keeps each app's configuration, secrets, state and logs."""
        return (self.local_target_root / "apps").resolve()


@lru_cache(maxsize=1)
def get_settings() -> ServiceSettings:
    """Return the process-wide settings (read once)."""
    return ServiceSettings()
