"""Activity: swap the running server's adapter in place, behind the smoke gate the server runs itself."""

from typing import Any

import azure.durable_functions as df

from payloads.redeploy_steps import SwapInput
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def swap_adapter(payload: dict[str, Any]) -> dict[str, Any]:
    """Swap to the version; the old one keeps serving when the gate fails or the adapter does not load."""
    step = SwapInput.model_validate(payload)
    apps = get_target(step.target, get_settings(), step.azure).apps
    return apps.swap_adapter(step.app_name, step.version, step.gate).model_dump(mode="json")
