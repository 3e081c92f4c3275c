"""host.json settings the host honours: durableTask.overridableExistingInstanceStates."""

from __future__ import annotations

import pytest

from devtools.devhost.config import replaces_live_instances


@pytest.mark.parametrize(
    ("durable_task", "replaces"),
    [
        ({}, False),
        ({"overridableExistingInstanceStates": "NonRunningStates"}, False),
        ({"overridableExistingInstanceStates": "AnyState"}, True),
        ({"overridableExistingInstanceStates": "anystate"}, True),
    ],
)
def test_only_any_state_lets_a_start_replace_a_live_instance(durable_task: dict[str, str], replaces: bool) -> None:
    assert replaces_live_instances(durable_task) is replaces


def test_an_unknown_setting_stops_the_host_naming_it() -> None:
    with pytest.raises(SystemExit, match="overridableExistingInstanceStates 'Sometimes'"):
        replaces_live_instances({"overridableExistingInstanceStates": "Sometimes"})
