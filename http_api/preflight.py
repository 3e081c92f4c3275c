"""Checks a deploy request against the target before anything starts, so a mistake costs no orchestration."""

from payloads.requests import DeployRequest
from share_layout import paths
from share_layout.snapshots import REQUIRED_ADAPTER_FILE, read_snapshot
from targets.protocol import Target

BASE_MODEL_FILE = "config.json"


def deploy_problems(request: DeployRequest, target: Target) -> list[dict[str, str]]:
    """One entry per field that names something missing on the target (empty when the deploy can start)."""
    problems: list[dict[str, str]] = []
    if not target.apps.is_provisioned(request.app_name):
        problems.append({"field": "app_name", "message": f"app {request.app_name!r} is not provisioned on target "
                                                         f"{request.target!r}: POST /api/provision first"})
    if not target.share.exists(paths.join(request.base_model, BASE_MODEL_FILE)):
        problems.append({"field": "base_model", "message": f"no base model at {request.base_model!r} on the share "
                                                           f"(no {BASE_MODEL_FILE} there)"})
    rollback = request.version is not None and read_snapshot(target.share, request.version) is not None
    if not rollback and not target.share.exists(paths.join(request.adapter_source, REQUIRED_ADAPTER_FILE)):
        problems.append({"field": "adapter_source", "message": f"no LoRA adapter at {request.adapter_source!r} on "
                                                               f"the share (no {REQUIRED_ADAPTER_FILE} there)"})
    return problems
