"""Fixtures for the function app's tests: a local target rooted in a temporary directory."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from service_settings import get_settings
from targets.local.process_control import stop_all


@pytest.fixture
def local_root(share_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the settings at a temporary local target whose share holds the tiny model; stop its apps after."""
    root = share_copy.parent
    monkeypatch.setenv("LOCAL_TARGET_ROOT", str(root))
    get_settings.cache_clear()
    yield root
    stop_all(root / "apps")
    get_settings.cache_clear()

