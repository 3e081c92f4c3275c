"""Retry policies and errors shared by the orchestrations."""

import azure.durable_functions as df

# Steps that touch storage or the app host: a few attempts, backing off from 5 s (azure-core already
# retries throttling and 5xx inside each attempt; this covers whole-step failures such as a lost lease).
STORAGE_STEP_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=3)


class StepFailed(RuntimeError):
    """A workflow step failed for good; the message names the step and what went wrong."""

    def __init__(self, step: str, reason: object) -> None:
        super().__init__(f"step '{step}' failed: {reason}")
        self.step = step
