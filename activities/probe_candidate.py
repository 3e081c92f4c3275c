"""Activity: probe once whether the candidate serves at its own URL (the orchestrator loops with timers)."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import ReadinessInput
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def probe_candidate(payload: dict[str, Any]) -> dict[str, Any]:
    """One readiness probe of the candidate: ready, still starting, or failed for good (it exited)."""
    step = ReadinessInput.model_validate(payload)
    apps = get_target(step.target, get_settings(), step.azure).apps
    return apps.probe_candidate(step.app_name, step.revision).model_dump(mode="json")
