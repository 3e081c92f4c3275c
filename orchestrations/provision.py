"""Provision workflow: lay out the share, create the container app, report its endpoint."""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from activities.create_app import create_app
from activities.prepare_share import prepare_share
from orchestrations.policies import STORAGE_STEP_RETRY, StepFailed
from orchestrations.progress import Progress
from payloads.steps import ProvisionJob, ProvisionOutputs

NAME = "provision"
STEPS = ("prepare_share", "create_app")

bp = df.Blueprint()


@bp.function_name(NAME)
@bp.orchestration_trigger(context_name="context")
def provision(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Prepare the share and create the app; the output has the keys of inference.config.json."""
    request = ProvisionJob.model_validate(context.get_input()).request
    ref = {"target": request.target, "app_name": request.app_name}
    progress = Progress(context, STEPS)
    try:
        progress.start("prepare_share", "Creating the share's directory layout")
        yield context.call_activity_with_retry(prepare_share, STORAGE_STEP_RETRY, ref)
        progress.start("create_app", f"Creating container app {request.app_name}")
        raw = yield context.call_activity_with_retry(create_app, STORAGE_STEP_RETRY, request.model_dump(mode="json"))
    except Exception as error:
        raise StepFailed(progress.current, error) from error
    outputs = ProvisionOutputs.model_validate(raw)
    progress.finish(f"Provisioned {outputs.ACA_APP_NAME} at {outputs.ACA_APP_ENDPOINT}")
    return outputs.model_dump(mode="json")
