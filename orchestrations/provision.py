"""Provision workflow: lay out the share, create the container app, report its endpoint."""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from activities.create_app import create_app
from activities.prepare_share import prepare_share
from orchestrations.policies import call_step, step_failed
from orchestrations.progress import Progress
from payloads.steps import AppRef, CreateAppInput, ProvisionJob, ProvisionOutputs

NAME = "provision"
STEPS = ("prepare_share", "create_app")

bp = df.Blueprint()


@bp.function_name(NAME)
@bp.orchestration_trigger(context_name="context")
def provision(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Prepare the share and create the app; the output has the keys of inference.config.json."""
    job = ProvisionJob.model_validate(context.get_input())
    progress = Progress(context, STEPS)
    try:
        progress.start("prepare_share", "Creating the share's directory layout")
        yield call_step(context, prepare_share, AppRef(target=job.target, app_name=job.app_name))
        progress.start("create_app", f"Creating container app {job.app_name}")
        app = CreateAppInput(target=job.target, app_name=job.app_name, port=job.port)
        raw = yield call_step(context, create_app, app)
    except Exception as error:
        raise step_failed(context, progress.current, error) from error
    outputs = ProvisionOutputs.model_validate(raw)
    progress.finish(f"Provisioned {outputs.ACA_APP_NAME} at {outputs.ACA_APP_ENDPOINT}")
    return outputs.model_dump(mode="json")
