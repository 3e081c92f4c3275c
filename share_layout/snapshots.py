"""Immutable adapter snapshots on the share: serving/adapters/<version>/, complete or absent.

A snapshot is written into serving/staging/<version>-<token>/ (files copied share-side, then the manifest, checked
against the source) and renamed into place in one step, so a failed or interrupted copy never leaves a partial version
folder behind; the manifest's presence still marks a version complete for folders written by older code.
"""

import json
import uuid
from typing import Any

from share_layout import paths
from share_layout.file_share import FileShare
from share_layout.manifest import Manifest, digest

REQUIRED_ADAPTER_FILE = "adapter_config.json"


def read_snapshot(share: FileShare, version: str) -> dict[str, Any] | None:
    """The manifest of a complete snapshot (written last, so its presence means complete), else None."""
    manifest_path = paths.join(paths.adapter_version_dir(version), paths.SNAPSHOT_MANIFEST)
    return json.loads(share.read_bytes(manifest_path)) if share.exists(manifest_path) else None


def source_manifest(share: FileShare, source: str) -> Manifest:
    """The training output's files (each inside the share), or a clear error when there is no adapter there."""
    files = share.list_files(source)
    if REQUIRED_ADAPTER_FILE not in files:
        raise FileNotFoundError(
            f"no LoRA adapter at {source!r} on the share (no {REQUIRED_ADAPTER_FILE}): "
            "run fine-tuning first, or set adapter_source to where it wrote the adapter"
        )
    return files


def _write_staged(share: FileShare, source: str, version: str, files: Manifest, staging: str) -> None:
    share.copy_files(source, staging, files)  # share-side: on Azure Files no adapter byte leaves the service
    if share.list_files(staging) != files:
        raise OSError(f"adapter snapshot {version} does not match its source after copying; deploy again")
    manifest = {"version": version, "adapter_hash": digest(files), "source": source, "files": files}
    share.write_bytes(paths.join(staging, paths.SNAPSHOT_MANIFEST), json.dumps(manifest, indent=2).encode())


def copy_snapshot(share: FileShare, source: str, version: str, files: Manifest) -> None:
    """Copy every file into staging (share-side), check what landed, write the manifest, then rename it into place."""
    staging = paths.snapshot_staging_dir(version, uuid.uuid4().hex)
    target_dir = paths.adapter_version_dir(version)
    try:
        _write_staged(share, source, version, files, staging)
        if read_snapshot(share, version) is not None:  # completed meanwhile by another app's deploy
            return
        share.delete_directory(target_dir)  # an incomplete folder left by older code (no manifest)
        share.rename_directory(staging, target_dir)
    finally:
        share.delete_directory(staging)
