"""Fixtures shared by every test package: the tiny model, generated once per session."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.tiny_model import TinyModelPaths, build


@pytest.fixture(scope="session")
def tiny_share(tmp_path_factory: pytest.TempPathFactory) -> TinyModelPaths:
    """A share directory holding the tiny base model and its adapter (read-only: copy before changing)."""
    return build(tmp_path_factory.mktemp("tiny-share"))


@pytest.fixture
def share_copy(tiny_share: TinyModelPaths, tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the tiny share for one test."""
    share = tmp_path / "share"
    shutil.copytree(tiny_share.share_dir, share)
    yield share
