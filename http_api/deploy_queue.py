"""Hand a deploy request to its app's deployer: the one place where deploys of an app are started.

Every request gets a request id, `deploy_<app>_<UTC yyyymmddTHHMMSSffffff>_<4 hex>` for a user's call or
`deploy_<app>_wh_<24 hex of sha256(webhook id)>` for a webhook (so a redelivered webhook has the same id). App
names hold no '_', so the app is the id's second part and no app's ids are another's.

`submit_deploy` makes sure the app's deployer (`deployer_<app>`, orchestrations.deployer) runs, raises the
`deploy_requested` event to it, and returns once the deployer has acknowledged the request id in its custom
status. Delivery is at least once: an event the backend drops (one that lands in the same batch as the
deployer's continue_as_new is discarded) is raised again every few seconds until acknowledged; the deployer
ignores ids it has already seen.
"""

import asyncio
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from orchestrations import deployer
from payloads.apps import DeployerState, DeployerStatus, DeployRequested, DeployTrigger
from payloads.steps import DeployJob

log = logging.getLogger(__name__)
Status = df.OrchestrationRuntimeStatus
REPLACEABLE = frozenset({Status.Completed, Status.Failed, Status.Terminated, Status.Canceled})
"""The extension's NonRunningStates: an instance id in one of these may be started again."""

ACK_DEADLINE_S = 20.0
"""How long a starter waits for the deployer to acknowledge a request before answering 503."""
RERAISE_EVERY_S = 3.0
"""How often the event is raised again while unacknowledged (a dropped event costs at most this)."""
POLL_S = 0.02


class DeployNotAccepted(RuntimeError):
    """The deployer did not acknowledge the request in time; nothing may have been queued."""


@dataclass(frozen=True)
class Submitted:
    """A request the deployer holds: its id, where to poll it, and whether it had been submitted before."""

    request_id: str
    status_url: str
    duplicate: bool = False
    trigger: DeployTrigger | None = None
    """The trigger stored with the request when it is a duplicate (a webhook route compares body digests)."""


def user_request_id(app_name: str, now: datetime) -> str:
    """A new request id for a user's deploy call at `now` (UTC)."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{request_prefix(app_name)}{stamp}_{secrets.token_hex(2)}"


def webhook_request_id(app_name: str, webhook_id: str) -> str:
    """The request id of a webhook delivery: the same for every redelivery of one webhook id."""
    digest = hashlib.sha256(webhook_id.encode()).hexdigest()[:24]
    return f"{request_prefix(app_name)}wh_{digest}"


def request_prefix(app_name: str) -> str:
    """The prefix of every deploy request id (and deploy instance id) of `app_name`."""
    return f"deploy_{app_name}_"


def app_of_request(request_id: str) -> str | None:
    """The app a request id names, or None when the id is not a request id."""
    parts = request_id.split("_")
    return parts[1] if len(parts) >= 3 and parts[0] == "deploy" and parts[1] else None


def status_path(request_id: str) -> str:
    """Where to poll a request: GET /api/status/<request id>."""
    return f"/api/status/{request_id}"


def deployer_instance_id(app_name: str) -> str:
    """The one deployer instance of `app_name`."""
    return f"{deployer.INSTANCE_PREFIX}{app_name}"


async def is_live(client: df.DurableOrchestrationClient, instance_id: str) -> bool:
    """Whether an instance with this id exists and is not finished (so starting the id again is refused)."""
    status = await client.get_status(instance_id)
    return bool(status) and status.runtime_status is not None and status.runtime_status not in REPLACEABLE


async def start_singleton(client: df.DurableOrchestrationClient, name: str, instance_id: str, job: Any) -> bool:
    """Start orchestrator `name` as `instance_id`; False when a live instance holds the id (nothing started).

    The backend's create is atomic and, with host.json's `overridableExistingInstanceStates: NonRunningStates`,
    refuses an id whose instance is live: of two starts at the same instant exactly one creates the instance.
    """
    if await is_live(client, instance_id):
        return False
    try:
        await client.start_new(name, instance_id=instance_id, client_input=job)
    except Exception:  # the SDK raises a bare Exception for every refusal: ask what holds the id
        if await is_live(client, instance_id):
            return False
        raise
    return True


def published_status(status: Any) -> DeployerStatus | None:
    """A deployer instance's published DeployerStatus, or None (no instance, or nothing published yet)."""
    custom = status.custom_status if status and status.runtime_status is not None else None
    if not isinstance(custom, dict):
        return None
    try:
        return DeployerStatus.model_validate(custom)
    except ValueError:
        return None


async def deployer_status(client: df.DurableOrchestrationClient, app_name: str) -> DeployerStatus | None:
    """The app's deployer's published status, or None when it never ran (or publishes nothing yet)."""
    return published_status(await client.get_status(deployer_instance_id(app_name)))


@dataclass(frozen=True)
class KnownRequest:
    """A request that exists: as an instance (deploy or superseded) or queued in its deployer."""

    request_id: str
    trigger: DeployTrigger | None
    instance: Any | None = None
    """The instance's DurableOrchestrationStatus (with input) when the request has one."""
    queued_behind: str | None = None
    """The running deploy a queued request waits for (None when it has an instance)."""
    requested_at: datetime | None = None
    """When a queued request was made (None when it has an instance)."""


async def find_request(client: df.DurableOrchestrationClient, request_id: str) -> KnownRequest | None:
    """The request with this id, if it was ever submitted (an instance, or queued in the app's deployer)."""
    status = await client.get_status(request_id, show_input=True)
    if status and status.runtime_status is not None:
        raw = status.input_ if isinstance(status.input_, dict) else {}
        trigger = DeployTrigger.model_validate(raw["trigger"]) if isinstance(raw.get("trigger"), dict) else None
        return KnownRequest(request_id, trigger, instance=status)
    app_name = app_of_request(request_id)
    current = await deployer_status(client, app_name) if app_name else None
    if current is None or not current.knows(request_id):
        return None
    entry = current.queued_entry(request_id)
    running = current.running.request_id if current.running else None
    if entry is None:
        return KnownRequest(request_id, None)
    return KnownRequest(request_id, entry.trigger, queued_behind=running, requested_at=entry.requested_at)


async def _raise(client: df.DurableOrchestrationClient, event: DeployRequested, live: bool) -> None:
    app_name = event.job.app_name
    if not live:
        await start_singleton(client, deployer.NAME, deployer_instance_id(app_name),
                              DeployerState(app_name=app_name).model_dump(mode="json"))
    try:
        await client.raise_event(deployer_instance_id(app_name), deployer.EVENT, event.model_dump(mode="json"))
    except Exception as error:  # gone (it failed or was terminated): the next round starts it again
        log.warning("Raising %s for %s failed (%s); trying again", deployer.EVENT, event.request_id, error)


async def submit_deploy(
    client: df.DurableOrchestrationClient, job: DeployJob, request_id: str, trigger: DeployTrigger,
    requested_at: datetime | None = None,
) -> Submitted:
    """Queue `job` under `request_id` with the app's deployer; a known request id starts nothing (duplicate).

    `requested_at` (default: now) orders requests: of those waiting, the latest runs. Returns once the deployer
    has acknowledged the request; DeployNotAccepted after ACK_DEADLINE_S without.
    """
    known = await find_request(client, request_id)
    if known is not None:
        return Submitted(request_id, status_path(request_id), duplicate=True, trigger=known.trigger)
    event = DeployRequested(request_id=request_id, job=job, trigger=trigger,
                            requested_at=requested_at or datetime.now(UTC))
    deployer_id = deployer_instance_id(job.app_name)
    began = time.monotonic()
    next_raise, next_instance_check = began, began + 0.5
    current = await client.get_status(deployer_id)
    while True:
        now = time.monotonic()
        if now >= next_raise:
            live = bool(current) and current.runtime_status not in (None, *REPLACEABLE)
            await _raise(client, event, live)
            next_raise = time.monotonic() + RERAISE_EVERY_S
        await asyncio.sleep(POLL_S)
        current = await client.get_status(deployer_id)
        published = published_status(current)
        if published is not None and published.knows(request_id):
            return Submitted(request_id, status_path(request_id))
        if time.monotonic() >= next_instance_check:  # accepted, then dropped from `accepted` by newer ids
            next_instance_check = time.monotonic() + 1.0
            instance = await client.get_status(request_id)
            if instance and instance.runtime_status is not None:
                return Submitted(request_id, status_path(request_id))
        if time.monotonic() - began > ACK_DEADLINE_S:
            raise DeployNotAccepted(
                f"the deployer of app {job.app_name!r} did not take request {request_id} within "
                f"{ACK_DEADLINE_S:.0f} s; the function app may be overloaded: send the request again")


def accepted_response(req: func.HttpRequest, submitted: Submitted) -> func.HttpResponse:
    """202 naming the request id and where to poll it (Location too); the same answer for a duplicate."""
    base = req.url.split("/api/", 1)[0] if "/api/" in req.url else req.url.rstrip("/")
    url = base + submitted.status_url
    body = {"id": submitted.request_id, "requestId": submitted.request_id, "statusUrl": submitted.status_url,
            "statusQueryGetUri": url, "duplicate": submitted.duplicate}
    return func.HttpResponse(json.dumps(body), status_code=202, mimetype="application/json",
                             headers={"Location": url})
