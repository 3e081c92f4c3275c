"""Retry policies and errors shared by the orchestrations."""

from collections.abc import Callable
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskBase

from payloads.steps import Payload

# Steps that touch storage or the app host: at most 3 attempts, 5 s apart every time (the SDK's RetryOptions has
# no backoff coefficient, so the host's default of 1 applies: no back-off). azure-core already retries throttling
# and 5xx inside each attempt; this covers whole-step failures such as a lost lease.
STORAGE_STEP_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=3)


def call_step(context: df.DurableOrchestrationContext, activity: Callable[..., Any], payload: Payload) -> TaskBase:
    """Call a storage or app-host activity with `payload` as JSON, retried per STORAGE_STEP_RETRY."""
    return context.call_activity_with_retry(activity, STORAGE_STEP_RETRY, payload.model_dump(mode="json"))


class StepFailed(RuntimeError):
    """A workflow step failed for good; the message names the step and what went wrong."""

    def __init__(self, step: str, reason: object) -> None:
        super().__init__(f"step '{step}' failed: {reason}")
        self.step = step
