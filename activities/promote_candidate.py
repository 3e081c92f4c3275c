"""Activity: move all traffic to the candidate in one step; the previous revision drains and stops."""

from typing import Any

import azure.durable_functions as df

from payloads.redeploy_steps import RevisionInput
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def promote_candidate(payload: dict[str, Any]) -> dict[str, Any]:
    """Promote the candidate; the revision now serving and where."""
    step = RevisionInput.model_validate(payload)
    apps = get_target(step.target, get_settings(), step.azure).apps
    return apps.promote(step.app_name, step.revision).model_dump(mode="json")
