"""Provision workflow: on 'local', lay out the share and create the app; on 'azure', deploy the ARM template.

Both end with the app's outputs in the keys of inference.config.json (the orchestration's output).
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from activities.create_app import create_app
from activities.prepare_share import prepare_share
from orchestrations import provision_azure
from orchestrations.app_registry import register_app
from orchestrations.policies import call_step, step_failed
from orchestrations.progress import Progress
from payloads.apps import AppConfig
from payloads.steps import AppRef, CreateAppInput, ProvisionJob, ProvisionOutputs

NAME = "provision"
STEPS = ("prepare_share", "create_app")

bp = df.Blueprint()


def provision_locally(
    context: df.DurableOrchestrationContext, job: ProvisionJob, progress: Progress
) -> Generator[Any, Any, ProvisionOutputs]:
    """Prepare the share and create the app as a local process."""
    progress.start("prepare_share", "Creating the share's directory layout")
    yield call_step(context, prepare_share, AppRef(target=job.target, app_name=job.app_name))
    progress.start("create_app", f"Creating container app {job.app_name}")
    app = CreateAppInput(target=job.target, app_name=job.app_name, port=job.port)
    return ProvisionOutputs.model_validate((yield call_step(context, create_app, app)))


@bp.function_name(NAME)
@bp.orchestration_trigger(context_name="context")
def provision(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Provision on the job's target; the output has the keys of inference.config.json."""
    job = ProvisionJob.model_validate(context.get_input())
    plan = job.azure if job.target == "azure" else None
    progress = Progress(context, provision_azure.STEPS if plan else STEPS)
    try:
        if plan is not None:
            outputs = yield from provision_azure.provision_on_azure(context, job.app_name, plan, progress)
        else:
            outputs = yield from provision_locally(context, job, progress)
        progress.publish(detail=f"Registering app {job.app_name}")
        config = AppConfig.from_provision(job.target, job.app_name, outputs, context.current_utc_datetime)
        yield register_app(context, config)  # the app registry: what later deploys read
    except Exception as error:
        raise step_failed(context, progress.current, error) from error
    progress.finish(f"Provisioned {outputs.ACA_APP_NAME} at {outputs.ACA_APP_ENDPOINT}")
    return outputs.model_dump(mode="json")
