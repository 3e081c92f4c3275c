"""Activity: point the app at the base model and adapter version and start a new revision."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import RestartInput
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def restart_revision(payload: dict[str, Any]) -> dict[str, Any]:
    """Start a new revision; return its name and endpoint (readiness is checked separately)."""
    step = RestartInput.model_validate(payload)
    apps = get_target(step.target, get_settings(), step.azure).apps
    return apps.restart(step.app_name, step.base_model, step.version).model_dump(mode="json")
