"""Activity: stop a candidate that failed (readiness or the gate); the serving revision is untouched."""

from typing import Any

import azure.durable_functions as df

from payloads.redeploy_steps import RevisionInput
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def discard_candidate(payload: dict[str, Any]) -> str:
    """Discard the candidate; its revision name."""
    step = RevisionInput.model_validate(payload)
    apps = get_target(step.target, get_settings(), step.azure).apps
    apps.discard_candidate(step.app_name, step.revision)
    return step.revision
