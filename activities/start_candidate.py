"""Activity: start a blue-green candidate beside the serving revision, with no traffic."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import RestartInput
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def start_candidate(payload: dict[str, Any]) -> dict[str, Any]:
    """The candidate's revision and own URL, or why only a restart in place can do (`fallback`)."""
    step = RestartInput.model_validate(payload)
    apps = get_target(step.target, get_settings(), step.azure).apps
    return apps.start_candidate(step.app_name, step.base_model, step.version).model_dump(mode="json")
