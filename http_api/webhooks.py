"""POST /api/webhooks/training-complete: a training run's Standard Webhooks call redeploys its app.

Anonymous (no function key): the signature guards it. Order, so that nothing is learned or started by a call
that is not authentic: no WEBHOOK_SECRET (503); the envelope, body size (413, checked before the signature) and
type (415); the signature headers (400 naming each missing one); the signature and its freshness (401); only
then the body (400), the app (404) and what the body names on the share (400).

Replays: a delivery's request id is derived from its app and `webhook-id` (http_api.deploy_queue), and a request
id is a Durable instance id or a request its app's deployer holds, so the memory of accepted ids lives in the
task hub and survives restarts. A redelivery (same id, same body digest) gets the first answer again, 202 for
the same request, and starts nothing; the same id with another body is a 409. The app is in the signed body,
so a captured delivery cannot be replayed against another app.
"""

import asyncio
import logging
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

from http_api import webhook_signature as signature
from http_api.deploy_queue import (
    DeployNotAccepted,
    Submitted,
    accepted_response,
    find_request,
    status_path,
    submit_deploy,
    webhook_request_id,
)
from http_api.responses import BadRequest, BodyTooLarge, NotJson, error_response, is_json_media_type, parse_body
from http_api.responses import refused as refused_response
from http_api.webhook_plan import plan_deploy, registered_target
from payloads.apps import DeployTrigger
from payloads.requests import quoted
from payloads.webhooks import TrainingComplete, body_sha256
from service_settings import get_settings

bp = df.Blueprint()
log = logging.getLogger(__name__)

ROUTE = "webhooks/training-complete"
MAX_WEBHOOK_BODY_BYTES = 64 * 1024
"""The largest webhook body read (64 KiB): a training-complete body is a few hundred bytes."""


def check_envelope(req: func.HttpRequest) -> bytes:
    """The raw body, or 413 (over MAX_WEBHOOK_BODY_BYTES, declared or sent) or 415 (not JSON by Content-Type)."""
    declared = req.headers.get("content-length", "")
    raw = req.get_body()
    if len(raw) > MAX_WEBHOOK_BODY_BYTES or (declared.isdigit() and int(declared) > MAX_WEBHOOK_BODY_BYTES):
        raise BodyTooLarge(f"webhook body is larger than {MAX_WEBHOOK_BODY_BYTES} bytes; send the small JSON object "
                           "naming app_name and adapter_path")
    content_type = req.headers.get("content-type")
    if content_type and not is_json_media_type(content_type):
        raise NotJson(f"webhook body must be JSON: send Content-Type: application/json (got {quoted(content_type)})")
    return raw


def replay_answer(req: func.HttpRequest, submitted: Submitted, digest: str) -> func.HttpResponse:
    """The answer to a request id seen before: the first answer for the same body, 409 for another body."""
    if submitted.trigger is None:  # taken by the deployer, its instance not written yet: the digest is unknown
        return error_response(503, f"this webhook-id is being accepted right now (request {submitted.request_id}); "
                                   "send it again in a few seconds", requestId=submitted.request_id)
    if submitted.trigger.body_sha256 == digest:
        return accepted_response(req, submitted)
    return error_response(409, f"webhook-id was already accepted with a different body (request "
                               f"{submitted.request_id}); send a new webhook-id for a new training result",
                          requestId=submitted.request_id, statusUrl=submitted.status_url)


async def _accept(req: func.HttpRequest, client: df.DurableOrchestrationClient, call: signature.SignedCall,
                  body: TrainingComplete, digest: str, arrived: datetime) -> func.HttpResponse:
    request_id = webhook_request_id(body.app_name, call.webhook_id)
    known = await find_request(client, request_id)
    if known is not None:  # a redelivery: what was accepted then is the answer, whatever the share holds now
        seen = Submitted(request_id, status_path(request_id), duplicate=True, trigger=known.trigger)
        return replay_answer(req, seen, digest)
    registered = await registered_target(client, body.app_name)
    job = await asyncio.to_thread(plan_deploy, body, get_settings(), registered)
    trigger = DeployTrigger(kind="webhook", webhook_id=call.webhook_id, run_id=body.run_id, body_sha256=digest)
    try:
        submitted = await submit_deploy(client, job, request_id, trigger, requested_at=arrived)
    except DeployNotAccepted as error:
        return error_response(503, str(error), requestId=request_id)
    if submitted.duplicate:  # another delivery of the same id won the race
        return replay_answer(req, submitted, digest)
    log.info("Webhook %s accepted for app %s as %s", call.webhook_id, body.app_name, request_id)
    return accepted_response(req, submitted)


@bp.route(route=ROUTE, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def training_complete(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Verify a signed training-complete call, then queue a deploy of the adapter it names (202), once per id."""
    arrived = datetime.now(UTC)  # orders the app's requests by arrival, not by how long the checks below took
    try:
        verifiers = signature.verifiers(get_settings().webhook_secret)
    except signature.WebhookNotConfigured as error:
        return error_response(503, str(error))
    try:
        raw = check_envelope(req)
        call = signature.verify(verifiers, raw, req.headers)
        body = parse_body(req, TrainingComplete)
        return await _accept(req, client, call, body, body_sha256(raw), arrived)
    except BadRequest as error:
        log.info("Webhook refused (%s): %s", error.status_code, error.message)
        return refused_response(error)
