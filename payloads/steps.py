"""Inputs and outputs of the orchestrations and their activities (JSON in Durable history).

History outlives the code that wrote it: an in-flight orchestration replays its old input and activity results
through the newest models. So these models ignore fields they do not know (a field since removed), give new
fields defaults, and never embed the HTTP body models of payloads.requests (a renamed request field would
otherwise break every replay); the triggers map each request into a job here, field by field.
"""

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from payloads.redeploy import RequestedStrategy, SmokeGate
from payloads.requests import TargetName
from payloads.tolerant import Payload as Payload  # re-exported; there so payloads.redeploy can use it too


class AppRef(Payload):
    """Which container app, on which target."""

    target: TargetName
    app_name: str


class Job(AppRef):
    """Base for orchestration inputs; also reads the older shape that nested the HTTP body under "request"."""

    @model_validator(mode="before")
    @classmethod
    def _unnest_request(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("request"), dict):
            return {**data["request"], **{key: value for key, value in data.items() if key != "request"}}
        return data


class CreateAppInput(AppRef):
    """Create (or update) the app; `port` only means something on the local target."""

    port: int | None = None


class ArmDeploymentRef(Payload):
    """One ARM deployment of infra/provision/inference.json: where it runs and its name."""

    subscription_id: str
    resource_group: str
    deployment_name: str


class AzureProvisioning(ArmDeploymentRef):
    """What a provision on Azure deploys: the template's parameters (never a secure one) and how long to wait."""

    location: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    requested_parameters: list[str] = Field(default_factory=list)
    """The parameters the request set itself: on an existing app they win over what a re-provision keeps."""
    timeout_s: int = Field(default=45 * 60, ge=1)
    poll_seconds: int = Field(default=15, ge=1)


class ProvisionJob(Job):
    """Input of the provision orchestration (`azure` is set on the Azure target only)."""

    port: int | None = None
    azure: AzureProvisioning | None = None


class ResourceGroupInput(Payload):
    """Make sure the resource group exists; `location` is only needed to create it."""

    subscription_id: str
    resource_group: str
    location: str | None = None


class ResourceGroupResult(Payload):
    """The resource group's region, and whether this step created it."""

    location: str
    created: bool


class StartDeploymentInput(ArmDeploymentRef):
    """Start (or adopt this run's own earlier start of) the deployment; the API key is added by the activity."""

    app_name: str
    run_id: str
    requested_at: datetime | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    requested_parameters: list[str] = Field(default_factory=list)


class DeploymentStarted(Payload):
    """The deployment's state right after the PUT (or the adopted run's state)."""

    state: str
    adopted: bool = False


class ResourceProgress(Payload):
    """One resource of a running deployment, from its operations list."""

    type: str
    name: str
    state: str


DEPLOYMENT_ENDED = frozenset({"Succeeded", "Failed", "Canceled", "Deleted"})
"""ARM deployment states after which nothing changes any more."""


class DeploymentStatus(Payload):
    """One read of the deployment: its state, outputs once it succeeded, resources, and why it failed."""

    state: str
    outputs: dict[str, str] = Field(default_factory=dict)
    resources: list[ResourceProgress] = Field(default_factory=list)
    failure: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the deployment reached a final state."""
        return self.state in DEPLOYMENT_ENDED


class AzurePlace(Payload):
    """Where a registered Azure app lives: the registry's SUBSCRIPTION_ID, RESOURCE_GROUP_NAME, STORAGE_ACCOUNT_NAME
    and FILE_SHARE_NAME. The Azure target uses these over the app settings."""

    subscription_id: str = Field(min_length=1)
    resource_group: str = Field(min_length=1)
    storage_account: str = Field(min_length=1)
    file_share: str = Field(min_length=1)


class DeployRef(AppRef):
    """The app of a deploy step and, for an app registered on Azure, where it lives (None: the app settings' place,
    as in histories written before places were carried)."""

    azure: AzurePlace | None = None


class DeployJob(Job):
    """Input of the deploy orchestration: what to serve, plus the poll interval the trigger chose, and where the
    registered Azure app lives (None: the app settings' place)."""

    base_model: str
    adapter_source: str
    version: str | None = None
    readiness_timeout_s: int = Field(ge=1)
    poll_seconds: int = Field(ge=1)
    azure: AzurePlace | None = None
    strategy: RequestedStrategy = "auto"
    gate: SmokeGate | None = None
    """The request's smoke gate; None: the default gate (one short chat prompt, a non-empty reply)."""


class ProvisionOutputs(Payload):
    """What provisioning produced, in the keys of the AI Toolkit's infra/inference.config.json.

    FILE_SHARE_NAME names a share, never a path: in Azure the storage account's file share; on the local target
    the fixed name "local-share", a stand-in like the "local" account and group (where that share's directory
    is, is the LOCAL_SHARE_DIR setting, not an output).
    """

    SUBSCRIPTION_ID: str
    RESOURCE_GROUP_NAME: str
    STORAGE_ACCOUNT_NAME: str
    FILE_SHARE_NAME: str
    ACA_APP_NAME: str
    ACA_APP_ENDPOINT: str


class SyncResult(Payload):
    """What syncing the inference code to the share did."""

    copied: list[str]
    deleted: list[str]
    unchanged: int
    code_hash: str
    bytes_copied: int = 0


class SnapshotInput(DeployRef):
    """Snapshot the training output as an immutable adapter version (or reuse an existing version)."""

    adapter_source: str
    version: str | None


class SnapshotResult(Payload):
    """The adapter version that will be served."""

    version: str
    adapter_hash: str
    files_copied: int


class RestartInput(DeployRef):
    """Start a new revision of the app serving `base_model` with adapter `version`."""

    base_model: str
    version: str


class RestartResult(Payload):
    """The revision that was started and where it will answer."""

    revision: str
    endpoint: str


class ReadinessInput(DeployRef):
    """Which revision to probe."""

    revision: str


class ReadinessResult(Payload):
    """One readiness probe: ready, still starting, or failed for good (crash loop)."""

    ready: bool
    failed: bool = False
    detail: str


class DeploymentRecord(Payload):
    """What is deployed now; written to serving/apps/<app>/current.json and returned by the deploy orchestration."""

    app_name: str
    endpoint: str
    revision: str
    version: str
    base_model: str
    adapter_hash: str
    code_hash: str
    deployed_at: datetime
    strategy: str | None = None
    """How this version got there: swap, blue_green or restart (None in records written before strategies)."""


class DeployChanges(Payload):
    """What a deploy had to copy: empty lists and zero when nothing changed since the last deploy."""

    code_copied: list[str]
    code_deleted: list[str]
    adapter_files_copied: int


class DeployOutput(DeploymentRecord):
    """The deploy orchestration's output: the record plus what it copied."""

    changes: DeployChanges


class RecordInput(DeployRef):
    """The record to write as serving/apps/<app>/current.json."""

    record: DeploymentRecord
