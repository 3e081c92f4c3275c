"""Activity: read the ARM deployment once (state, resources from its operations, outputs or what failed)."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import ArmDeploymentRef
from service_settings import get_settings
from targets.azure.arm.deployments import ArmProvisioning

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def read_arm_deployment(payload: dict[str, Any]) -> dict[str, Any]:
    """GET the deployment and its operations; the provision orchestration decides what to do with the answer."""
    ref = ArmDeploymentRef.model_validate(payload)
    return ArmProvisioning(get_settings(), ref.subscription_id).read(ref).model_dump(mode="json")
