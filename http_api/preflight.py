"""Checks a deploy request against the target before anything starts, so a mistake costs no orchestration.

What a field names must lie inside the share: a path that leads out of it (through a symbolic link, the folder
itself or any file in it) is refused here by name, so the snapshot activity, which refuses it too, never meets it.
A target whose settings are missing (the Azure target without its app settings) is refused naming `target` and the
missing settings' names. An app registered on Azure is checked where it lives (its place), not where the settings say.
"""

from collections.abc import Callable

from payloads.requests import DeployRequest, quoted
from payloads.steps import AzurePlace
from service_settings import ServiceSettings
from share_layout import paths
from share_layout.file_share import FileShare
from share_layout.snapshots import REQUIRED_ADAPTER_FILE, read_snapshot
from targets import TargetNotConfigured, get_target

BASE_MODEL_FILE = "config.json"
Problem = dict[str, str]
HOW_TO_PROVISION = {
    "local": "POST /api/provision first",
    "azure": "deploy infra/provision/inference.json by hand (README, Deploy to Azure) and check AZURE_RESOURCE_GROUP",
}


def _on_share(field: str, check: Callable[[], str | None]) -> Problem | None:
    """Run one check of what `field` names; a path out of the share or one the share cannot read is a problem too."""
    try:
        message = check()
    except ValueError as error:
        reason = str(error) if len(str(error)) <= 300 else str(error)[:300] + "…"
        message = f"{reason}: deploy only what lies inside the share (copy it in instead of linking to it)"
    except OSError as error:
        message = f"cannot be read on the share ({error.strerror or type(error).__name__}); check the path"
    return None if message is None else {"field": field, "message": message}


def _base_model(request: DeployRequest, share: FileShare) -> str | None:
    if share.exists(paths.join(request.base_model, BASE_MODEL_FILE)):
        return None
    return f"no base model at {quoted(request.base_model)} on the share (no {BASE_MODEL_FILE} there)"


def _adapter(request: DeployRequest, share: FileShare) -> str | None:
    if request.version is not None and read_snapshot(share, request.version) is not None:
        return None  # a rollback to a complete snapshot: the training output is not read
    if not share.exists(paths.join(request.adapter_source, REQUIRED_ADAPTER_FILE)):
        return f"no LoRA adapter at {quoted(request.adapter_source)} on the share (no {REQUIRED_ADAPTER_FILE} there)"
    share.refuse_links_out(request.adapter_source)  # every file it holds must resolve inside the share
    return None


def _not_provisioned(request: DeployRequest, place: AzurePlace | None) -> Problem:
    where, how = f"target {request.target!r}", HOW_TO_PROVISION[request.target]
    if place is not None:
        where += f" (resource group {place.resource_group!r} of subscription {place.subscription_id!r}, as registered)"
        how = "provision it again (POST /api/provision), or register where it is (POST /api/apps)"
    return {"field": "app_name", "message": f"app {request.app_name!r} is not provisioned on {where}: {how}"}


def deploy_problems(request: DeployRequest, settings: ServiceSettings,
                    place: AzurePlace | None = None) -> list[Problem]:
    """One entry per field that names something missing or unusable on the target (empty when the deploy can start);
    `place` is where the registered Azure app lives (its share and group are checked, not the settings')."""
    try:
        target = get_target(request.target, settings, place)
    except TargetNotConfigured as error:  # nothing can be checked on a target that cannot be reached
        return [{"field": "target", "message": str(error)}]
    problems: list[Problem | None] = []
    if not target.apps.is_provisioned(request.app_name):
        problems.append(_not_provisioned(request, place))
    problems.append(_on_share("base_model", lambda: _base_model(request, target.share)))
    problems.append(_on_share("adapter_source", lambda: _adapter(request, target.share)))
    return [problem for problem in problems if problem is not None]
