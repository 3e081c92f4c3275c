"""Activity: start the ARM deployment of infra/provision/inference.json, without waiting for it to end."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import StartDeploymentInput
from service_settings import get_settings
from targets.azure.arm.deployments import ArmProvisioning

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def start_arm_deployment(payload: dict[str, Any]) -> dict[str, Any]:
    """PUT the incremental deployment (the API key added here, never returned); return ARM's first state."""
    step = StartDeploymentInput.model_validate(payload)
    return ArmProvisioning(get_settings(), step.subscription_id).start(step).model_dump(mode="json")
