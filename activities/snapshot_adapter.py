"""Activity: copy the training output into an immutable adapter version on the share (or reuse one)."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import SnapshotInput, SnapshotResult
from service_settings import get_settings
from share_layout.manifest import digest
from share_layout.snapshots import copy_snapshot, read_snapshot, source_manifest
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def snapshot_adapter(payload: dict[str, Any]) -> dict[str, Any]:
    """Reuse an existing version (rollback) or snapshot the training output as a new one."""
    step = SnapshotInput.model_validate(payload)
    share = get_target(step.target, get_settings(), step.azure).share
    if step.version and (existing := read_snapshot(share, step.version)):
        return SnapshotResult(version=step.version, adapter_hash=existing["adapter_hash"], files_copied=0).model_dump()
    files = source_manifest(share, step.adapter_source)
    adapter_hash = digest(files)
    version = step.version or adapter_hash[:12]
    if read_snapshot(share, version) is not None:  # versions named by content: same name, same adapter
        return SnapshotResult(version=version, adapter_hash=adapter_hash, files_copied=0).model_dump()
    copy_snapshot(share, step.adapter_source, version, files)
    return SnapshotResult(version=version, adapter_hash=adapter_hash, files_copied=len(files)).model_dump()
