"""The real sync and snapshot activities on the Azure share: incremental by stored MD5, and sound under faults."""

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from activities import snapshot_adapter as snapshot_module
from activities import sync_share as sync_module
from share_layout import paths
from share_layout.manifest import digest, manifest_of_directory
from tests.function_app.invoke import user_function
from tests.simulators.faults import FaultPlan
from tests.simulators.simulated_azure import SimulatedAzure, Traffic

pytest_plugins = ["tests.simulators.azure_fixtures"]

REF = {"target": "local", "app_name": "app-one"}
sync = user_function(sync_module.sync_share)
snapshot = user_function(snapshot_module.snapshot_adapter)


@pytest.fixture
def source(simulated_azure: SimulatedAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The activities' target is the Azure share; the code being deployed is a private copy of the server."""
    copy = tmp_path / "server-src"
    shutil.copytree(sync_module.SERVER_SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    monkeypatch.setattr(sync_module, "SERVER_SOURCE", copy)
    for module in (sync_module, snapshot_module):
        monkeypatch.setattr(module, "get_target", lambda *_: SimpleNamespace(share=simulated_azure.share()))
    return copy


def synced(simulated_azure: SimulatedAzure) -> tuple[dict[str, Any], Traffic]:
    """Run the sync activity; its result and the Files traffic it caused."""
    mark = len(simulated_azure.files.log)
    result = sync(REF)
    return result, simulated_azure.traffic_since(mark)


def same_tree(left: Path, right: Path) -> bool:
    """Byte-identical files, and nothing else, on both sides."""
    return manifest_of_directory(left) == manifest_of_directory(right) and not list(right.rglob(".*.tmp"))


def snapshot_files(simulated_azure: SimulatedAzure, version: str) -> dict[str, str]:
    """The adapter files of a snapshot on the share (its manifest aside), with their MD5s."""
    snapshot_dir = simulated_azure.share_dir / paths.adapter_version_dir(version)
    return {path: md5 for path, md5 in manifest_of_directory(snapshot_dir).items() if path != paths.SNAPSHOT_MANIFEST}


def test_sync_uploads_everything_once_then_nothing_then_only_the_changed_file(
    simulated_azure: SimulatedAzure, source: Path
) -> None:
    remote = simulated_azure.share_dir / paths.INFERENCE_PACKAGE
    first, first_traffic = synced(simulated_azure)
    source_bytes = sum(path.stat().st_size for path in source.rglob("*") if path.is_file())
    assert first_traffic.bytes_uploaded == source_bytes and same_tree(source, remote)
    assert first["code_hash"] == digest(manifest_of_directory(source))

    second, second_traffic = synced(simulated_azure)
    assert second["copied"] == [] and second_traffic.bytes_uploaded == 0
    assert not {"CreateFile", "PutRange", "RenameFile", "DeleteFile"} & set(second_traffic.operations)

    with (source / "settings.py").open("a") as handle:
        handle.write("\n# changed\n")
    third, third_traffic = synced(simulated_azure)
    assert third["copied"] == ["settings.py"]
    assert third_traffic.bytes_uploaded == (source / "settings.py").stat().st_size
    assert third_traffic.operations["CreateFile"] == third_traffic.operations["RenameFile"] == 1
    assert same_tree(source, remote)
    report = {"first": first_traffic, "no change": second_traffic, "one file changed": third_traffic}
    for name, traffic in report.items():
        print(f"{name}: {len(traffic.requests)} requests {dict(traffic.operations)}, {traffic.bytes_uploaded} B up")


def test_a_removed_source_file_is_removed_from_the_share(simulated_azure: SimulatedAzure, source: Path) -> None:
    (source / "stale_module.py").write_text("x = 1\n")
    synced(simulated_azure)
    (source / "stale_module.py").unlink()
    result, traffic = synced(simulated_azure)
    assert result["deleted"] == ["stale_module.py"] and traffic.operations["DeleteFile"] == 1
    assert same_tree(source, simulated_azure.share_dir / paths.INFERENCE_PACKAGE)


def test_the_training_output_is_snapshot_then_reused(simulated_azure: SimulatedAzure, source: Path) -> None:
    adapter = simulated_azure.share_dir / paths.TRAINING_ADAPTER
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"r": 8}')  # written by training through the mount: no MD5
    (adapter / "adapter_model.safetensors").write_bytes(bytes(range(256)) * 20_000)
    request = {**REF, "adapter_source": paths.TRAINING_ADAPTER, "version": None}
    first = snapshot(request)
    assert first["files_copied"] == 2
    assert snapshot_files(simulated_azure, first["version"]) == manifest_of_directory(adapter)
    assert not list((simulated_azure.share_dir / paths.SNAPSHOT_STAGING).rglob("*"))
    assert snapshot(request) == {**first, "files_copied": 0}


def test_with_a_fifth_of_requests_failing_the_sync_and_snapshot_still_end_byte_identical(
    simulated_azure: SimulatedAzure, source: Path
) -> None:
    adapter = simulated_azure.share_dir / paths.TRAINING_ADAPTER
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    (adapter / "adapter_model.safetensors").write_bytes(bytes(range(251)) * 25_000)
    faults = FaultPlan(rate=0.2, kinds=("busy", "drop", "lost", "slow"), seed=9)
    simulated_azure.files.faults = faults
    sync(REF)
    with (source / "settings.py").open("a") as handle:
        handle.write("\n# changed\n")
    assert sync(REF)["copied"] == ["settings.py"]
    version = snapshot({**REF, "adapter_source": paths.TRAINING_ADAPTER, "version": "v1"})["version"]
    simulated_azure.files.faults = None
    assert set(faults.injected) == {"busy", "drop", "lost", "slow"} and len(faults.injected) >= 20
    assert same_tree(source, simulated_azure.share_dir / paths.INFERENCE_PACKAGE)
    assert snapshot_files(simulated_azure, version) == manifest_of_directory(adapter)
