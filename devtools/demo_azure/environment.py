"""The environment of the local Functions host: the simulators' settings, and no other Azure credential."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.simulators.azure_fixtures import OTHER_CREDENTIAL_ENV

INFERENCE_IMAGE = "cr.example.io/finetune-inference:1"


@contextmanager
def without_other_credentials() -> Iterator[None]:
    """Remove the variables that would pick another credential (or a proxy) for the host; restore them after."""
    removed = {name: os.environ.pop(name) for name in OTHER_CREDENTIAL_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(removed)


def host_env(simulated: dict[str, str], root: Path) -> dict[str, str]:
    """The simulators' settings plus what the e2e test gives the host: quick polls, an image name."""
    return {**simulated, "LOCAL_TARGET_ROOT": str(root / "local"), "READINESS_POLL_SECONDS": "1",
            "AZURE_PROVISIONING_POLL_SECONDS": "1", "AZURE_INFERENCE_IMAGE": INFERENCE_IMAGE}
