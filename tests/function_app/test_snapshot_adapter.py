"""Adapter versions on the share are immutable snapshots; redeploying a version is a rollback."""

import json
from pathlib import Path

import pytest

from activities.snapshot_adapter import snapshot_adapter
from share_layout import paths
from targets.local.share import LocalShare
from tests.function_app.invoke import user_function

snapshot = user_function(snapshot_adapter)
SOURCE = paths.TRAINING_ADAPTER


def request(version: str | None = None, source: str = SOURCE) -> dict[str, object]:
    return {"target": "local", "app_name": "app-one", "adapter_source": source, "version": version}


def test_snapshot_copies_the_adapter_and_marks_it_complete(local_root: Path) -> None:
    result = snapshot(request())
    version_dir = local_root / "share" / paths.adapter_version_dir(result["version"])
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert manifest["adapter_hash"] == result["adapter_hash"] and result["version"] == result["adapter_hash"][:12]
    source_dir = local_root / "share" / SOURCE
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        assert (version_dir / name).read_bytes() == (source_dir / name).read_bytes()


def test_same_adapter_again_copies_nothing(local_root: Path) -> None:
    first = snapshot(request())
    second = snapshot(request())
    assert first["files_copied"] > 0 and second["files_copied"] == 0 and second["version"] == first["version"]


def test_existing_version_is_reused_even_after_training_output_changed(local_root: Path) -> None:
    first = snapshot(request(version="v1"))
    (local_root / "share" / SOURCE / "adapter_model.safetensors").write_bytes(b"retrained")
    rollback = snapshot(request(version="v1"))
    assert rollback == {**first, "files_copied": 0}


def test_new_training_output_gets_a_new_version(local_root: Path) -> None:
    taken = snapshot(request())["version"]
    (local_root / "share" / SOURCE / "adapter_model.safetensors").write_bytes(b"retrained")
    fresh = snapshot(request())
    assert fresh["version"] != taken and fresh["files_copied"] > 0
    assert (local_root / "share" / paths.adapter_version_dir(taken) / "manifest.json").exists()


def test_incomplete_snapshot_without_manifest_is_rewritten(local_root: Path) -> None:
    partial = local_root / "share" / paths.adapter_version_dir("v3")
    partial.mkdir(parents=True)
    (partial / "adapter_model.safetensors").write_bytes(b"half a file")
    result = snapshot(request(version="v3"))
    assert result["files_copied"] > 0
    source = local_root / "share" / SOURCE / "adapter_model.safetensors"
    assert (partial / "adapter_model.safetensors").read_bytes() == source.read_bytes()


def test_an_input_with_a_field_since_removed_is_still_accepted(local_root: Path) -> None:
    result = snapshot(request() | {"retired_field": True})
    assert result["files_copied"] > 0


def test_missing_adapter_is_a_clear_error(local_root: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no LoRA adapter at 'models/none'"):
        snapshot(request(source="models/none"))


def _leftovers(share: Path) -> list[str]:
    """Every folder under serving/adapters and serving/staging, share-relative."""
    return sorted(str(p.relative_to(share)) for folder in ("serving/adapters", "serving/staging")
                  for p in (share / folder).glob("*"))


def test_a_file_linked_out_of_the_share_is_refused_before_it_is_read_and_leaves_nothing(local_root: Path) -> None:
    share = local_root / "share"
    outside = local_root / "outside.safetensors"
    weights = share / SOURCE / "adapter_model.safetensors"
    weights.rename(outside)
    weights.symlink_to(outside)
    with pytest.raises(ValueError, match="outside the share"):
        snapshot(request())
    assert _leftovers(share) == []


def test_a_copy_that_fails_half_way_leaves_no_version_folder(local_root: Path, monkeypatch) -> None:
    share = local_root / "share"
    written: list[str] = []
    real_write = LocalShare.write_bytes

    def fail_on_second_file(self: LocalShare, path: str, data: bytes) -> None:
        written.append(path)
        if len(written) == 2:
            raise OSError("disk full")
        real_write(self, path, data)

    monkeypatch.setattr(LocalShare, "write_bytes", fail_on_second_file)
    with pytest.raises(OSError, match="disk full"):
        snapshot(request(version="v4"))
    assert len(written) == 2 and _leftovers(share) == []
    monkeypatch.undo()
    assert snapshot(request(version="v4"))["files_copied"] > 0
    assert _leftovers(share) == ["serving/adapters/v4"]
