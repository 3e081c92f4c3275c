"""Provision on Azure: resource group, start the ARM deployment, then watch it (monitor pattern) until it ends.

The deployment is read by an activity, then the orchestration sleeps on a durable timer (poll_seconds), until it
succeeded, failed, was canceled, or the deadline passed. Each read publishes which resources are done or running and
the time spent against the deadline. A deadline passing stops the watching, not the deployment: it goes on in Azure.
"""

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from activities.ensure_resource_group import ensure_resource_group
from activities.read_arm_deployment import read_arm_deployment
from activities.start_arm_deployment import start_arm_deployment
from orchestrations.policies import call_step
from orchestrations.progress import Progress
from payloads.steps import (
    ArmDeploymentRef,
    AzureProvisioning,
    DeploymentStatus,
    ProvisionOutputs,
    ResourceGroupInput,
    ResourceGroupResult,
    StartDeploymentInput,
)
from targets.azure.arm.operations import progress_line

STEPS = ("resource_group", "start_deployment", "wait_deployment")


class DeploymentFailed(RuntimeError):
    """The deployment ended without succeeding; the message names what failed and what to do."""


class DeploymentTimeout(RuntimeError):
    """The deployment had not ended by the deadline."""


def duration(seconds: float) -> str:
    """'42 s', '3 min 5 s', '45 min'."""
    minutes, rest = divmod(int(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def wait_for_deployment(
    context: df.DurableOrchestrationContext, plan: AzureProvisioning, progress: Progress
) -> Generator[Any, Any, DeploymentStatus]:
    """Read the deployment, sleep on a durable timer, until it ends or the deadline passes."""
    began = context.current_utc_datetime
    deadline = began + timedelta(seconds=plan.timeout_s)
    ref = ArmDeploymentRef(subscription_id=plan.subscription_id, resource_group=plan.resource_group,
                           deployment_name=plan.deployment_name)
    while True:
        status = DeploymentStatus.model_validate((yield call_step(context, read_arm_deployment, ref)))
        if status.state == "Succeeded":
            return status
        if status.ended:
            raise DeploymentFailed(status.failure or f"ARM deployment '{plan.deployment_name}' ended {status.state}")
        now = context.current_utc_datetime
        elapsed = (now - began).total_seconds()
        if now >= deadline:
            raise DeploymentTimeout(
                f"ARM deployment '{plan.deployment_name}' was still {status.state} after {duration(plan.timeout_s)} "
                f"({progress_line(status.resources)}); it goes on in Azure: provision again once it has ended "
                "(the resource group's Deployments in the Azure portal), or send a longer provision_timeout_s"
            )
        progress.publish(
            detail=f"{progress_line(status.resources)}; {duration(elapsed)} of {duration(plan.timeout_s)}",
            deployment_state=status.state, resources=[item.model_dump() for item in status.resources],
            elapsed_s=int(elapsed), deadline_s=plan.timeout_s,
        )
        yield context.create_timer(min(now + timedelta(seconds=plan.poll_seconds), deadline))


def provision_on_azure(
    context: df.DurableOrchestrationContext, app_name: str, plan: AzureProvisioning, progress: Progress
) -> Generator[Any, Any, ProvisionOutputs]:
    """Run the Azure steps; the outputs are the deployment's (the keys of inference.config.json)."""
    progress.start("resource_group", f"Making sure resource group {plan.resource_group} exists")
    group_input = ResourceGroupInput(subscription_id=plan.subscription_id, resource_group=plan.resource_group,
                                     location=plan.location)
    group = ResourceGroupResult.model_validate((yield call_step(context, ensure_resource_group, group_input)))
    progress.start("start_deployment", f"Starting ARM deployment {plan.deployment_name} of app {app_name} in "
                   f"{plan.resource_group} ({group.location})")
    start_input = StartDeploymentInput(
        subscription_id=plan.subscription_id, resource_group=plan.resource_group,
        deployment_name=plan.deployment_name, app_name=app_name, run_id=str(context.new_uuid()),
        requested_at=context.current_utc_datetime, parameters=plan.parameters,
        requested_parameters=plan.requested_parameters,
    )
    yield call_step(context, start_arm_deployment, start_input)
    progress.start("wait_deployment", f"Waiting for ARM deployment {plan.deployment_name} to end")
    status = yield from wait_for_deployment(context, plan, progress)
    return ProvisionOutputs.model_validate(status.outputs)
