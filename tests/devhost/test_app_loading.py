"""How the host loads an app: local.settings.json, working directory, invocation context, route templates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.devhost.app_loader import HttpFunction
from devtools.devhost.process import HostProcess
from devtools.devhost.route_table import RouteTable, template_regex
from tests.devhost.conftest import APPS, HTTP_TIMEOUT


@pytest.fixture(scope="module")
def settings_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    """The approval app with one of its local settings already set in the environment."""
    env = {"APPROVAL_OVERRIDDEN": "from the environment"}
    with HostProcess(APPS / "approval", tmp_path_factory.mktemp("settings-state"), env=env) as host:
        yield host


@pytest.mark.slow
def test_local_settings_values_reach_the_app_and_environment_wins(settings_host: HostProcess) -> None:
    greeting = httpx.get(settings_host.url("/svc/settings/greeting"), timeout=HTTP_TIMEOUT).json()
    assert greeting["value"] == "from local.settings.json"
    assert greeting["function"] == "read_setting"
    assert Path(greeting["cwd"]) == (APPS / "approval").resolve()
    overridden = httpx.get(settings_host.url("/svc/settings/overridden"), timeout=HTTP_TIMEOUT).json()
    assert overridden["value"] == "from the environment"


@pytest.mark.slow
def test_route_prefix_comes_from_host_json(settings_host: HostProcess) -> None:
    assert httpx.get(settings_host.url("/api/settings/greeting"), timeout=HTTP_TIMEOUT).status_code == 404


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("status/{instanceId}", "/status/abc-123", {"instanceId": "abc-123"}),
        ("status/{instanceId}", "/STATUS/abc/", {"instanceId": "abc"}),
        ("items/{id:int}/parts/{part?}", "/items/7/parts", {"id": "7"}),
        ("items/{id:int}/parts/{part?}", "/items/7/parts/wheel", {"id": "7", "part": "wheel"}),
        ("files/{*path}", "/files/a/b/c.txt", {"path": "a/b/c.txt"}),
    ],
)
def test_route_templates_match_and_extract_params(template: str, path: str, params: dict[str, str]) -> None:
    found = template_regex(template).match(path)
    assert found is not None
    assert {k: v for k, v in found.groupdict().items() if v is not None} == params


def test_route_template_does_not_match_extra_segments() -> None:
    assert template_regex("status/{instanceId}").match("/status/a/b") is None


def test_literal_route_wins_over_a_parameterised_one() -> None:
    def function(name: str, route: str) -> HttpFunction:
        return HttpFunction(name, route, None, "anonymous", "req", (), False, lambda req: None)

    table = RouteTable([function("by_id", "items/{id}"), function("latest", "items/latest")])
    found = table.match("GET", "items/latest")
    assert found and not isinstance(found, bool) and found[0].name == "latest"
    found = table.match("GET", "items/42")
    assert found and not isinstance(found, bool)
    assert found[0].name == "by_id" and found[1] == {"id": "42"}
