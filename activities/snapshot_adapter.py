"""Activity: copy the training output into an immutable adapter version on the share (or reuse one)."""

import json
from typing import Any

import azure.durable_functions as df

from payloads.steps import SnapshotInput, SnapshotResult
from service_settings import get_settings
from share_layout import paths
from share_layout.manifest import Manifest, digest
from targets import get_target
from targets.protocol import FileShare

bp = df.Blueprint()

REQUIRED_ADAPTER_FILE = "adapter_config.json"


def read_snapshot(share: FileShare, version: str) -> dict[str, Any] | None:
    """The manifest of a complete snapshot (written last, so its presence means complete), else None."""
    manifest_path = paths.join(paths.adapter_version_dir(version), paths.SNAPSHOT_MANIFEST)
    return json.loads(share.read_bytes(manifest_path)) if share.exists(manifest_path) else None


def source_manifest(share: FileShare, source: str) -> Manifest:
    """The training output's files, or a clear error when there is no adapter there."""
    files = share.list_files(source)
    if REQUIRED_ADAPTER_FILE not in files:
        raise FileNotFoundError(
            f"no LoRA adapter at {source!r} on the share (no {REQUIRED_ADAPTER_FILE}): "
            "run fine-tuning first, or set adapter_source to where it wrote the adapter"
        )
    return files


def copy_snapshot(share: FileShare, source: str, version: str, files: Manifest) -> None:
    """Copy every file, check what landed, then write the manifest that marks the snapshot complete."""
    target_dir = paths.adapter_version_dir(version)
    for relative in sorted(files):
        share.write_bytes(paths.join(target_dir, relative), share.read_bytes(paths.join(source, relative)))
    landed = {p: md5 for p, md5 in share.list_files(target_dir).items() if p != paths.SNAPSHOT_MANIFEST}
    if landed != files:
        raise OSError(f"adapter snapshot {version} does not match its source after copying; deploy again")
    manifest = {"version": version, "adapter_hash": digest(files), "source": source, "files": files}
    share.write_bytes(paths.join(target_dir, paths.SNAPSHOT_MANIFEST), json.dumps(manifest, indent=2).encode())


@bp.activity_trigger(input_name="payload")
def snapshot_adapter(payload: dict[str, Any]) -> dict[str, Any]:
    """Reuse an existing version (rollback) or snapshot the training output as a new one."""
    step = SnapshotInput.model_validate(payload)
    share = get_target(step.target, get_settings()).share
    if step.version and (existing := read_snapshot(share, step.version)):
        return SnapshotResult(version=step.version, adapter_hash=existing["adapter_hash"], files_copied=0).model_dump()
    files = source_manifest(share, step.adapter_source)
    adapter_hash = digest(files)
    version = step.version or adapter_hash[:12]
    if read_snapshot(share, version) is not None:  # versions named by content: same name, same adapter
        return SnapshotResult(version=version, adapter_hash=adapter_hash, files_copied=0).model_dump()
    copy_snapshot(share, step.adapter_source, version, files)
    return SnapshotResult(version=version, adapter_hash=adapter_hash, files_copied=len(files)).model_dump()
