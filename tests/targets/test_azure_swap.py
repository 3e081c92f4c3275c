"""The in-place adapter swap on Azure: the real server's admin route on the serving revision, with the app's admin
key read from its secrets; the server's answers become SwapResults, and no key shows anywhere."""

import logging

import httpx
import pytest

from payloads.redeploy import GatePrompt, SmokeGate
from share_layout import paths
from tests.simulators.simulated_azure import SimulatedContainerApps
from tests.targets.test_azure_blue_green import (  # noqa: F401 - the fixture
    ADMIN_KEY,
    API_KEY,
    APP,
    answering_revision,
    azure,
    create_app,
)

pytest_plugins = ["tests.simulators.azure_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_the_adapter_swaps_in_the_serving_revision_with_the_admin_key_and_a_bad_version_changes_nothing(
    azure: SimulatedContainerApps, caplog: pytest.LogCaptureFixture  # noqa: F811 - the fixture
) -> None:
    caplog.set_level(logging.DEBUG)
    blue = create_app()
    endpoint = azure.record(APP).fqdn
    apps = azure.apps()
    gate = SmokeGate(prompts=[GatePrompt(prompt="hello")], deadline_s=60, max_tokens=2)

    swapped = apps.swap_adapter(APP, "v2", gate)
    assert swapped.swapped, swapped.detail
    assert swapped.version == "v2" and swapped.gate is not None and swapped.gate.passed
    reply = httpx.post(f"{endpoint}/v1/completions", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=120,
                       json={"model": "v2", "prompt": "hi", "max_tokens": 1})
    assert reply.headers.get("x-adapter-version") == "v2", reply.text
    assert answering_revision(endpoint) == blue  # the same revision, no restart

    missing = apps.swap_adapter(APP, "v9", None)  # no such folder on the share
    assert not missing.swapped and not missing.unsupported and "could not be loaded" in missing.detail
    assert not (azure.azure.share_dir / paths.adapter_version_dir("v9")).exists()
    again = httpx.post(f"{endpoint}/v1/completions", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=120,
                       json={"model": "v2", "prompt": "hi", "max_tokens": 1})
    assert again.headers.get("x-adapter-version") == "v2"

    exposed = [caplog.text, repr(swapped), repr(missing)]
    assert not [secret for secret in (API_KEY, ADMIN_KEY) if any(secret in text for text in exposed)]
