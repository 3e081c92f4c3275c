"""Inputs and outputs of the orchestrations and their activities (JSON in Durable history)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from payloads.requests import DeployRequest, ProvisionRequest, TargetName


class Payload(BaseModel):
    """Base for step payloads: unknown fields are a programming error, so they are rejected."""

    model_config = ConfigDict(extra="forbid")


class AppRef(Payload):
    """Which container app, on which target."""

    target: TargetName
    app_name: str


class ProvisionJob(Payload):
    """Input of the provision orchestration."""

    request: ProvisionRequest


class DeployJob(Payload):
    """Input of the deploy orchestration: the request plus the poll interval the trigger chose."""

    request: DeployRequest
    poll_seconds: int = Field(ge=1)


class ProvisionOutputs(Payload):
    """What provisioning produced, in the keys of the AI Toolkit's infra/inference.config.json."""

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


class SnapshotInput(AppRef):
    """Snapshot the training output as an immutable adapter version (or reuse an existing version)."""

    adapter_source: str
    version: str | None


class SnapshotResult(Payload):
    """The adapter version that will be served."""

    version: str
    adapter_hash: str
    files_copied: int


class RestartInput(AppRef):
    """Start a new revision of the app serving `base_model` with adapter `version`."""

    base_model: str
    version: str


class RestartResult(Payload):
    """The revision that was started and where it will answer."""

    revision: str
    endpoint: str


class ReadinessInput(AppRef):
    """Which revision to probe."""

    revision: str


class ReadinessResult(Payload):
    """One readiness probe: ready, still starting, or failed for good (crash loop)."""

    ready: bool
    failed: bool = False
    detail: str


class DeploymentRecord(Payload):
    """What is deployed now; written to serving/current.json and returned by the deploy orchestration."""

    app_name: str
    endpoint: str
    revision: str
    version: str
    base_model: str
    adapter_hash: str
    code_hash: str
    deployed_at: datetime


class DeployChanges(Payload):
    """What a deploy had to copy: empty lists and zero when nothing changed since the last deploy."""

    code_copied: list[str]
    code_deleted: list[str]
    adapter_files_copied: int


class DeployOutput(DeploymentRecord):
    """The deploy orchestration's output: the record plus what it copied."""

    changes: DeployChanges


class RecordInput(AppRef):
    """The record to write as serving/current.json."""

    record: DeploymentRecord
