"""Syncing the inference server code to the share is incremental."""

import shutil
from pathlib import Path

import pytest

from activities import sync_share as sync_module
from share_layout import paths
from tests.function_app.invoke import user_function

sync = user_function(sync_module.sync_share)
REF = {"target": "local", "app_name": "app-one"}


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the server code, so a test can edit 'the code being deployed'."""
    copy = tmp_path / "server-src"
    shutil.copytree(sync_module.SERVER_SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sync_module, "SERVER_SOURCE", copy)
    return copy


def test_first_sync_copies_every_file_and_second_copies_none(local_root: Path, source: Path) -> None:
    first = sync(REF)
    remote = local_root / "share" / paths.INFERENCE_PACKAGE
    assert first["copied"] and (remote / "__main__.py").read_bytes() == (source / "__main__.py").read_bytes()
    second = sync(REF)
    assert second["copied"] == [] and second["deleted"] == []
    assert second["unchanged"] == len(first["copied"])
    assert second["code_hash"] == first["code_hash"]


def test_changing_one_file_copies_only_that_file(local_root: Path, source: Path) -> None:
    sync(REF)
    with (source / "settings.py").open("a") as handle:
        handle.write("\n# changed\n")
    result = sync(REF)
    assert result["copied"] == ["settings.py"]
    assert (local_root / "share" / paths.INFERENCE_PACKAGE / "settings.py").read_text().endswith("# changed\n")


def test_removed_source_file_is_removed_from_the_share_and_the_hash_returns_to_before(
    local_root: Path, source: Path
) -> None:
    before = sync(REF)
    (source / "stale_module.py").write_text("x = 1\n")
    with_module = sync(REF)
    (source / "stale_module.py").unlink()
    result = sync(REF)
    assert result["deleted"] == ["stale_module.py"]
    assert not (local_root / "share" / paths.INFERENCE_PACKAGE / "stale_module.py").exists()
    assert with_module["code_hash"] != before["code_hash"]
    assert result["code_hash"] == before["code_hash"]


def test_bytecode_and_caches_are_not_synced(local_root: Path, source: Path) -> None:
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    result = sync(REF)
    assert not any("__pycache__" in path for path in result["copied"])
