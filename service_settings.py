"""The function app's one settings object, read from the environment (app settings in Azure)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
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
