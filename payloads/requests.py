"""Bodies of the HTTP routes that start orchestrations.

Strict at the edge: types are not coerced ("8080" is not a port, true is not a number), unknown fields are
refused, and every string has a length limit, so no value the user sends can make a check slow or an answer big.
"""

from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from share_layout.paths import TRAINING_ADAPTER

TargetName = Literal["local", "azure"]
APP_NAME_PATTERN = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255  # one folder or file name: the Linux limit (bytes), within Azure Files' 255 characters
QUOTED_CHARS = 80


def quoted(value: object, limit: int = QUOTED_CHARS) -> str:
    """A user value as it may appear in a message or a log: its repr, cut to `limit` characters and '…'."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def share_relative(value: str) -> str:
    """Accept a path inside the share: relative, POSIX, no '..', no control characters, names of ≤ 255 bytes."""
    path = PurePosixPath(value.strip())
    if not value.strip() or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ValueError(f"must be a relative path inside the share without '..', got {quoted(value)}")
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValueError(f"must not contain control characters such as NUL, got {quoted(value)}")
    if any(len(part.encode()) > MAX_NAME_BYTES for part in path.parts):
        raise ValueError(f"each folder or file name must be at most {MAX_NAME_BYTES} bytes, got {quoted(value)}")
    return str(path)


class StrictBody(BaseModel):
    """Unknown fields are rejected so a typo is reported; values must have the documented JSON type."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class ProvisionRequest(StrictBody):
    """POST /api/provision: create (or update) the share and the container app that serves the model."""

    target: TargetName = Field(default="local", description="Where to provision: 'local' (on 'azure', provision "
                                   "with infra/provision/inference.json by hand for now).")
    app_name: str = Field(default="finetuned-chat", max_length=32, pattern=APP_NAME_PATTERN)
    port: int | None = Field(default=None, ge=1024, le=65535, description="Local target: port to serve on.")


class DeployRequest(StrictBody):
    """POST /api/deploy: sync the server code and an adapter version to the share, restart, wait until ready."""

    target: TargetName = Field(default="local", description="Where to deploy: 'local', or 'azure' (the app settings "
                               "name the subscription, resource group, storage account and share).")
    app_name: str = Field(default="finetuned-chat", max_length=32, pattern=APP_NAME_PATTERN)
    base_model: str = Field(
        max_length=MAX_PATH_CHARS, description="Base model directory inside the share, e.g. model-cache/<org>/<model>."
    )
    adapter_source: str = Field(
        default=TRAINING_ADAPTER, max_length=MAX_PATH_CHARS, description="Training output inside the share."
    )
    version: str | None = Field(
        default=None,
        max_length=64,
        pattern=VERSION_PATTERN,
        description="Adapter version to serve; an existing version is redeployed as is (rollback). "
        "Default: derived from the adapter's content.",
    )
    readiness_timeout_s: int = Field(default=600, ge=5, le=3600)

    _paths = field_validator("base_model", "adapter_source")(share_relative)
