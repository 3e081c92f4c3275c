"""Immutable adapter snapshots on the share: serving/adapters/<version>/ with a manifest written last."""

import json
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
