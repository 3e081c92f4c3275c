"""Bodies of the HTTP routes that start orchestrations."""

from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from share_layout.paths import TRAINING_ADAPTER

TargetName = Literal["local"]
APP_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def share_relative(value: str) -> str:
    """Accept a path inside the share: relative, POSIX, no '..' (it names a place on the file share)."""
    path = PurePosixPath(value.strip())
    if not value.strip() or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ValueError(f"must be a relative path inside the share without '..', got {value!r}")
    return str(path)


class StrictBody(BaseModel):
    """Unknown fields are rejected so a typo is reported instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProvisionRequest(StrictBody):
    """POST /api/provision: create (or update) the share and the container app that serves the model."""

    target: TargetName = Field(default="local", description="Where to provision: the local target.")
    app_name: str = Field(default="finetuned-chat", pattern=APP_NAME_PATTERN)
    port: int | None = Field(default=None, ge=1024, le=65535, description="Local target: port to serve on.")


class DeployRequest(StrictBody):
    """POST /api/deploy: sync the server code and an adapter version to the share, restart, wait until ready."""

    target: TargetName = "local"
    app_name: str = Field(default="finetuned-chat", pattern=APP_NAME_PATTERN)
    base_model: str = Field(description="Base model directory inside the share, e.g. model-cache/<org>/<model>.")
    adapter_source: str = Field(default=TRAINING_ADAPTER, description="Training output inside the share.")
    version: str | None = Field(
        default=None,
        pattern=VERSION_PATTERN,
        description="Adapter version to serve; an existing version is redeployed as is (rollback). "
        "Default: derived from the adapter's content.",
    )
    readiness_timeout_s: int = Field(default=600, ge=5, le=3600)

    _paths = field_validator("base_model", "adapter_source")(share_relative)
