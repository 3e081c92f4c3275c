"""Fixtures shared by the target tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from service_settings import get_settings
from targets.local import LocalTarget, local_target
from targets.local.process_control import stop_all


@pytest.fixture
def target(share_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalTarget]:
    """The local target on a copy of the tiny-model share; every supervisor it started is stopped after."""
    monkeypatch.setenv("LOCAL_TARGET_ROOT", str(share_copy.parent))
    get_settings.cache_clear()
    yield local_target(get_settings())
    stop_all(share_copy.parent / "apps")
    get_settings.cache_clear()
