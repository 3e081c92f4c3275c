"""The local share: atomic writes with the documented file mode, and no path outside the share."""

import stat
from pathlib import Path

import pytest

from targets.local.atomic_write import FILE_MODE
from targets.local.share import LocalShare


def test_written_files_get_the_documented_mode_and_leave_no_temporary_file(tmp_path: Path) -> None:
    share = LocalShare(tmp_path)
    share.write_bytes("serving/adapters/v1/adapter_config.json", b"{}")
    written = tmp_path / "serving/adapters/v1/adapter_config.json"
    assert stat.S_IMODE(written.stat().st_mode) == FILE_MODE == 0o644
    assert [p.name for p in written.parent.iterdir()] == ["adapter_config.json"]


def test_a_failed_write_keeps_the_old_content(tmp_path: Path) -> None:
    share = LocalShare(tmp_path)
    share.write_bytes("serving/current.json", b"old")
    with pytest.raises(TypeError):
        share.write_bytes("serving/current.json", "not bytes")  # type: ignore[arg-type]
    assert (tmp_path / "serving/current.json").read_bytes() == b"old"
    assert [p.name for p in (tmp_path / "serving").iterdir()] == ["current.json"]


def test_paths_outside_the_share_are_refused(tmp_path: Path) -> None:
    share = LocalShare(tmp_path / "share")
    with pytest.raises(ValueError, match="outside the share"):
        share.write_bytes("../escaped.txt", b"x")
    assert not (tmp_path / "escaped.txt").exists()


def test_files_are_copied_inside_the_share_and_a_changed_source_is_refused(tmp_path: Path) -> None:
    share = LocalShare(tmp_path)
    share.write_bytes("outputs/adapter/adapter_config.json", b"{}")
    share.write_bytes("outputs/adapter/sub/weights.bin", b"w" * 3000)
    listed = share.list_files("outputs/adapter")
    share.copy_files("outputs/adapter", "serving/staging/v1", listed)
    assert share.list_files("serving/staging/v1") == listed
    assert (tmp_path / "serving/staging/v1/sub/weights.bin").read_bytes() == b"w" * 3000
    share.write_bytes("outputs/adapter/sub/weights.bin", b"changed")
    with pytest.raises(OSError, match="changed since it was listed"):
        share.copy_files("outputs/adapter", "serving/staging/v2", listed)
