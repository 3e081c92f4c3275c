"""Retry policies and errors shared by the orchestrations."""

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskBase

from payloads.steps import Payload

# Steps that touch storage or the app host: at most 3 attempts, 5 s apart every time (the SDK's RetryOptions has
# no backoff coefficient, so the host's default of 1 applies: no back-off). azure-core already retries throttling
# and 5xx inside each attempt; this covers whole-step failures such as a lost lease.
STORAGE_STEP_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=3)

ACTIVITY_PREFIX = re.compile(r"^Activity function '[^']*' failed:\s*")
EXCEPTION_TYPES = re.compile(r"^(?:(?:[A-Za-z_]\w*\.)*\w*(?:Error|Exception): )+")
log = logging.getLogger(__name__)
NEXT_STEP = "fix what it says and send the request again; the function app's log has the details"


def call_step(context: df.DurableOrchestrationContext, activity: Callable[..., Any], payload: Payload) -> TaskBase:
    """Call a storage or app-host activity with `payload` as JSON, retried per STORAGE_STEP_RETRY."""
    return context.call_activity_with_retry(activity, STORAGE_STEP_RETRY, payload.model_dump(mode="json"))


def _details_message(details: str) -> str:
    """The worker's message inside the extension's JSON details ({"Message": "Exception: ...", "StackTrace": ...})."""
    try:
        parsed = json.loads(details)
    except ValueError:
        return ""
    return str(parsed.get("Message") or "") if isinstance(parsed, dict) else ""


def failure_reason(error: BaseException) -> str:
    """What went wrong, for the user. An activity's failure comes as the SDK's "<reason> \n <details>": keep the
    reason's message, drop the host's prefix, exception types, and the source location or stack in the details
    (those belong in the log). The orchestration's own errors (a crash report, a timeout) are kept whole."""
    head, _, details = str(error).partition("\n")
    if not ACTIVITY_PREFIX.match(head.strip()):
        return str(error)
    reason = ACTIVITY_PREFIX.sub("", head.strip()).strip() or _details_message(details.strip())
    reason = EXCEPTION_TYPES.sub("", reason.strip().split("\n", 1)[0]).strip()
    return reason or "the step raised an unexpected error"


class StepFailed(RuntimeError):
    """A workflow step failed for good; the message names the step, what went wrong and what to do."""

    def __init__(self, step: str, reason: BaseException) -> None:
        super().__init__(f"step '{step}' failed: {failure_reason(reason)}; {NEXT_STEP}")
        self.step = step


def step_failed(context: df.DurableOrchestrationContext, step: str, error: BaseException) -> StepFailed:
    """The error to raise for a failed step; the whole failure (source location, stack) goes to the log only."""
    if not context.is_replaying:
        log.warning("Orchestration %s: step '%s' failed: %s", context.instance_id, step, error)
    return StepFailed(step, error)
