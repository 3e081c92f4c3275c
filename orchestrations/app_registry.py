"""The app registry: one tiny orchestration per app, instance id `app_<app>`, whose output is the app's config.

The registry is the task hub itself (the instance store in the function app's own storage account): registering
runs `register_app` with the app's fixed instance id, and reading is a status query of that id. Registering again
replaces the completed instance, so the newest registration wins.
"""

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskBase

from payloads.apps import AppConfig

NAME = "register_app"
INSTANCE_PREFIX = "app_"

bp = df.Blueprint()


def registry_instance_id(app_name: str) -> str:
    """The registry instance of `app_name` (app names hold no '_', so no app's id is another's)."""
    return f"{INSTANCE_PREFIX}{app_name}"


def app_name_of(instance_id: str) -> str | None:
    """The app a registry instance id names, or None when it is not one."""
    return instance_id[len(INSTANCE_PREFIX):] if instance_id.startswith(INSTANCE_PREFIX) else None


def register_app(context: df.DurableOrchestrationContext, config: AppConfig) -> TaskBase:
    """Register (or re-register) an app from inside an orchestration: yield the returned task.

    For the end of provisioning: `yield register_app(context, AppConfig.from_provision(job.target, job.app_name,
    outputs, context.current_utc_datetime))`. The task's value is the stored config (JSON).
    """
    return context.call_sub_orchestrator(NAME, config.model_dump(mode="json"), registry_instance_id(config.app_name))


@bp.function_name(NAME)
@bp.orchestration_trigger(context_name="context")
def register(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Validate the config and return it: the completed instance's output is the registration."""
    config = AppConfig.model_validate(context.get_input())
    context.set_custom_status({"step": "done", "message": f"App {config.app_name} is registered ({config.target})"})
    return config.model_dump(mode="json")
    yield  # a generator, as the SDK's orchestrator handle expects
