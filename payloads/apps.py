"""Apps and their deploy requests: the registry's config, what triggered a deploy, and the per-app deployer's state.

Orchestration payloads here are tolerant like payloads.steps (unknown fields ignored, new fields defaulted), since
they live in Durable history; `RegisterAppRequest` is the strict body of POST /api/apps.
"""

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from payloads.requests import APP_NAME_PATTERN, StrictBody, TargetName, quoted
from payloads.steps import DeployJob, Payload, ProvisionOutputs

AppSource = Literal["provision", "manual"]
TriggerKind = Literal["user", "webhook"]
RequestResult = Literal["queued", "running", "succeeded", "failed", "superseded", "terminated", "unknown"]

MAX_CONFIG_CHARS = 256
"""Longest value of an inference.config.json key (Azure names are far shorter; an endpoint URL fits)."""


class AppConfig(ProvisionOutputs):
    """One registered app: where it runs and the keys of its inference.config.json; the registry's output."""

    app_name: str
    target: TargetName
    registered_at: datetime
    source: AppSource

    @classmethod
    def from_provision(
        cls, target: TargetName, app_name: str, outputs: ProvisionOutputs, registered_at: datetime,
        source: AppSource = "provision",
    ) -> "AppConfig":
        """The registration of an app that provisioning produced (registered_at: the orchestration's clock)."""
        return cls(target=target, app_name=app_name, registered_at=registered_at, source=source,
                   **outputs.model_dump())

    def inference_config(self) -> dict[str, str]:
        """The inference.config.json keys alone."""
        return ProvisionOutputs.model_validate(self.model_dump()).model_dump()


class RegisterAppRequest(StrictBody):
    """POST /api/apps: register an app provisioned by hand, from its inference.config.json plus the target.

    `app_name` defaults to ACA_APP_NAME; either way it must be a valid app name (it names the registry instance
    and every deploy of the app).
    """

    target: TargetName
    app_name: str | None = Field(default=None, max_length=32, pattern=APP_NAME_PATTERN)
    SUBSCRIPTION_ID: str = Field(min_length=1, max_length=MAX_CONFIG_CHARS)
    RESOURCE_GROUP_NAME: str = Field(min_length=1, max_length=MAX_CONFIG_CHARS)
    STORAGE_ACCOUNT_NAME: str = Field(min_length=1, max_length=MAX_CONFIG_CHARS)
    FILE_SHARE_NAME: str = Field(min_length=1, max_length=MAX_CONFIG_CHARS)
    ACA_APP_NAME: str = Field(min_length=1, max_length=MAX_CONFIG_CHARS)
    ACA_APP_ENDPOINT: str = Field(min_length=1, max_length=MAX_CONFIG_CHARS)

    @field_validator("ACA_APP_ENDPOINT")
    @classmethod
    def _is_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or any(ch.isspace() for ch in value):
            raise ValueError(f"must be the app's URL, http(s)://host[:port], got {quoted(value)}")
        return value

    @field_validator("SUBSCRIPTION_ID", "RESOURCE_GROUP_NAME", "STORAGE_ACCOUNT_NAME", "FILE_SHARE_NAME",
                     "ACA_APP_NAME")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if any(ord(ch) < 32 or ord(ch) == 127 or ch in "/\\?#" for ch in value):
            reason = "must be a plain name (no '/', backslash, '?', '#', control characters)"
            raise ValueError(f"{reason}, got {quoted(value)}")
        return value

    def name(self) -> str:
        """The app name this registration is kept under."""
        return self.app_name or self.ACA_APP_NAME


class DeployTrigger(Payload):
    """What asked for a deploy: a user's call, or a training run's webhook (its id, run id, body digest)."""

    kind: TriggerKind = "user"
    webhook_id: str | None = None
    run_id: str | None = None
    body_sha256: str | None = None
    """Digest of the webhook's body, so a redelivery with the same webhook id can be compared with the first."""


class DeployRequested(Payload):
    """The `deploy_requested` event a starter raises to an app's deployer."""

    request_id: str
    job: DeployJob
    trigger: DeployTrigger = Field(default_factory=DeployTrigger)
    requested_at: datetime


class QueuedRequest(Payload):
    """A request the deployer holds until the running deploy finishes (published in its custom status)."""

    request_id: str
    requested_at: datetime
    trigger: DeployTrigger = Field(default_factory=DeployTrigger)
    version: str | None = None
    adapter_source: str = ""


class RunningDeploy(Payload):
    """The deploy the deployer runs now (its sub-orchestration's instance id is the request id)."""

    request_id: str
    requested_at: datetime
    started_at: datetime


class ServingNow(Payload):
    """What the app serves after the deployer's last successful deploy."""

    request_id: str
    version: str
    revision: str
    endpoint: str
    base_model: str
    deployed_at: datetime


class LastOutcome(Payload):
    """How the deployer's last deploy ended."""

    request_id: str
    result: Literal["succeeded", "failed"]
    finished_at: datetime


class DeployerState(Payload):
    """The deployer's input, carried across continue_as_new: small and bounded."""

    app_name: str
    recent: list[str] = Field(default_factory=list)
    """Request ids seen most recently (oldest first, bounded): an event naming one of them again is ignored."""
    serving: ServingNow | None = None
    last: LastOutcome | None = None
    generation: int = 0
    """How many times the deployer has continued as new."""


class DeployerStatus(Payload):
    """The deployer's custom status: what runs, what waits, what it has accepted, what serves."""

    app_name: str
    state: Literal["idle", "deploying"]
    running: RunningDeploy | None = None
    queued: list[QueuedRequest] = Field(default_factory=list)
    accepted: list[str] = Field(default_factory=list)
    """Every request id the deployer has accepted recently (a starter waits for its id to show here)."""
    serving: ServingNow | None = None
    last: LastOutcome | None = None
    generation: int = 0

    def knows(self, request_id: str) -> bool:
        """Whether the deployer has accepted this request (queued, running, or seen recently)."""
        running = self.running.request_id if self.running else None
        return request_id == running or request_id in self.accepted or any(
            item.request_id == request_id for item in self.queued)

    def queued_entry(self, request_id: str) -> QueuedRequest | None:
        """The queued request with this id, if it waits."""
        return next((item for item in self.queued if item.request_id == request_id), None)


class SupersededInput(Payload):
    """Input of the `deploy_superseded` orchestration: the request, and the newer one that replaced it."""

    request_id: str
    superseded_by: str
    job: DeployJob
    trigger: DeployTrigger = Field(default_factory=DeployTrigger)
    requested_at: datetime


class SupersededOutput(Payload):
    """Output of `deploy_superseded`: this request did not run; the newer one did (or will) instead."""

    result: Literal["superseded"] = "superseded"
    request_id: str
    superseded_by: str
    app_name: str
    version: str | None = None
    adapter_source: str = ""
    requested_at: datetime
    superseded_at: datetime
    message: str


class RequestedDeploy(DeployJob):
    """Input of a deploy the deployer runs: the job plus which request it serves (the deploy reads only the job)."""

    request_id: str
    trigger: DeployTrigger = Field(default_factory=DeployTrigger)
    requested_at: datetime
