"""Fixtures shared by every test package (the tiny model, generated once per session) and the slow-marker guard."""

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

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


class ProcessStartRefused(AssertionError):
    """A test not marked slow tried to start a process."""


def _refuse_processes(item: pytest.Item) -> contextlib.AbstractContextManager[object]:
    """For a test not marked slow, make starting a process fail, so `make test-fast` stays process-free."""
    if item.get_closest_marker("slow") is not None:
        return contextlib.nullcontext()

    def refuse(self: subprocess.Popen[bytes], args: object, *_: object, **__: object) -> None:
        raise ProcessStartRefused(f"{item.nodeid} starts a process ({args!r}): mark it @pytest.mark.slow")

    return mock.patch.object(subprocess.Popen, "__init__", refuse)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Fixtures of fast tests start no process either."""
    with _refuse_processes(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fast tests start no process: the slow marker is what `make test-fast` leaves out."""
    with _refuse_processes(item):
        yield
