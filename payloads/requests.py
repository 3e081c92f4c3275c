"""Bodies of the HTTP routes that start orchestrations.

Strict at the edge: types are not coerced ("8080" is not a port, true is not a number), unknown fields are
refused, and every string has a length limit, so no value the user sends can make a check slow or an answer big.
"""

from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from payloads.redeploy import RequestedStrategy
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


GpuProfileType = Literal["NC24-A100", "Consumption-GPU-NC8as-T4", "Consumption-GPU-NC24-A100"]
SharedResource = Literal["storageAccount", "fileShare", "logAnalytics", "environment", "environmentStorage"]
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
IDENTITY_ID_PATTERN = (r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ManagedIdentity"
                       r"/userAssignedIdentities/[^/]+$")
PROVISION_TIMEOUT_S = 45 * 60
"""Long enough for a new Container Apps environment with a GPU profile (its first creation takes the longest)."""


def no_double_hyphen(value: str | None) -> str | None:
    """Azure names that allow hyphens (shares, apps, environments) refuse two in a row."""
    if value is not None and "--" in value:
        raise ValueError(f"must not contain two hyphens in a row, got {quoted(value)}")
    return value


class AzureProvisionFields(StrictBody):
    """What a provision on target 'azure' may override; unset fields come from app settings and
    infra/provision/inference.parameters.json (null names there: the fine-tuning template's names)."""

    subscription_id: str | None = Field(default=None, pattern=GUID_PATTERN,
                                        description="Default: the AZURE_SUBSCRIPTION_ID setting.")
    resource_group: str | None = Field(default=None, min_length=1, max_length=90, pattern=r"^[-\w.()]*[-\w()]$",
                                       description="Default: the AZURE_RESOURCE_GROUP setting; created if missing.")
    location: str | None = Field(default=None, min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9]+$",
                                 description="Region of a new resource group and of the resources created "
                                 "(default: the resource group's).")
    storage_account_name: str | None = Field(default=None, pattern=r"^[a-z0-9]{3,24}$")
    file_share_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    environment_name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,58}[a-z0-9]$")
    environment_storage_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$")
    log_analytics_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$")
    resources_to_create: list[SharedResource] | None = Field(
        default=None, max_length=5, description="Shared resources missing from the resource group, to create; "
        "default [] (reuse the fine-tuning storage account, share, workspace and environment)."
    )
    gpu_profile_type: GpuProfileType | None = None
    gpu_profile_name: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
    container_image: str | None = Field(default=None, max_length=512, pattern=r"^[^\s]+$",
                                        description="Default: the AZURE_INFERENCE_IMAGE setting.")
    registry_server: str | None = Field(default=None, max_length=253, pattern=r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
    registry_identity_resource_id: str | None = Field(default=None, max_length=512, pattern=IDENTITY_ID_PATTERN)
    base_model_path: str | None = Field(default=None, max_length=MAX_PATH_CHARS)
    adapter_path: str | None = Field(default=None, max_length=MAX_PATH_CHARS)
    maximum_instance_count: int | None = Field(default=None, ge=1, le=100)
    min_replicas: int | None = Field(default=None, ge=0, le=100)
    max_batch_size: int | None = Field(default=None, ge=1, le=256)
    cooldown_period_seconds: int | None = Field(default=None, ge=0, le=86_400)
    active_revisions_mode: Literal["Single", "Multiple"] | None = None
    provision_timeout_s: int = Field(default=PROVISION_TIMEOUT_S, ge=60, le=6 * 3600,
                                     description="How long to wait for the ARM deployment to end.")

    _hyphens = field_validator("file_share_name", "environment_name", "environment_storage_name")(no_double_hyphen)

    @field_validator("resources_to_create")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("must not name a resource twice")
        return value

    @field_validator("base_model_path")
    @classmethod
    def _base_model_path(cls, value: str | None) -> str | None:
        return None if value is None else share_relative(value)

    @field_validator("adapter_path")
    @classmethod
    def _adapter_path(cls, value: str | None) -> str | None:
        return value if not value else share_relative(value)  # "" serves the base model alone


AZURE_ONLY_FIELDS = tuple(AzureProvisionFields.model_fields)


class ProvisionRequest(AzureProvisionFields):
    """POST /api/provision: create (or update) the share and the container app that serves the model."""

    target: TargetName = Field(default="local", description="Where to provision: 'local', or 'azure' (an ARM "
                               "deployment of infra/provision/inference.json).")
    app_name: str = Field(default="finetuned-chat", max_length=32, pattern=APP_NAME_PATTERN)
    port: int | None = Field(default=None, ge=1024, le=65535, description="Local target: port to serve on.")


class GateMessage(StrictBody):
    """One chat message of a gate prompt."""

    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=4000)


class GatePromptBody(StrictBody):
    """A gate prompt: chat `messages` or a plain `prompt` (one of them), and substrings the reply must contain."""

    messages: list[GateMessage] | None = Field(default=None, min_length=1, max_length=16)
    prompt: str | None = Field(default=None, min_length=1, max_length=4000)
    expect: list[str] = Field(default_factory=list, max_length=8)

    @field_validator("expect")
    @classmethod
    def _short_expectations(cls, value: list[str]) -> list[str]:
        if any(len(item) > 200 for item in value):
            raise ValueError("each expected substring must be at most 200 characters")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "GatePromptBody":
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give either messages or prompt")
        return self


class GateBody(StrictBody):
    """The smoke gate of a deploy: prompts the new version must answer, in time, before it gets traffic."""

    prompts: list[GatePromptBody] = Field(min_length=1, max_length=8)
    deadline_s: float = Field(default=30.0, gt=0, le=300)
    max_tokens: int = Field(default=16, ge=1, le=256)


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
    strategy: RequestedStrategy = Field(
        default="auto", description="auto: swap the adapter in place when only it changed, blue-green when the code, "
        "image or base model changed, restart on a first deploy; 'restart' or 'blue_green' force one.")
    gate: GateBody | None = Field(default=None, description="Smoke gate the new version must pass before it gets "
                                  "traffic; default one short chat prompt with a non-empty reply.")

    _paths = field_validator("base_model", "adapter_source")(share_relative)
