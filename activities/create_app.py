"""Activity: create (or update) the container app and report the inference.config.json outputs."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import CreateAppInput
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def create_app(payload: dict[str, Any]) -> dict[str, Any]:
    """Create the app on its target; return its provision outputs."""
    step = CreateAppInput.model_validate(payload)
    target = get_target(step.target, get_settings())
    return target.apps.create_app(step.app_name, step.port).model_dump(mode="json")
