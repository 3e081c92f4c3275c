"""Activity: make sure the resource group to provision in exists (created in `location` if missing)."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import ResourceGroupInput
from service_settings import get_settings
from targets.azure.arm.deployments import ArmProvisioning

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def ensure_resource_group(payload: dict[str, Any]) -> dict[str, Any]:
    """GET the group, PUT it only when it is missing; return its region and whether it was created."""
    step = ResourceGroupInput.model_validate(payload)
    arm = ArmProvisioning(get_settings(), step.subscription_id)
    return arm.ensure_group(step.resource_group, step.location).model_dump(mode="json")
