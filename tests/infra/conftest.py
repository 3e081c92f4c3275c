"""Paths and parsed files shared by the infra checks (nothing here talks to Azure or runs a compiler)."""

from pathlib import Path
from typing import Any

import pytest

from tests.infra.arm_template import load_json
from tests.infra.bicep_reader import BicepFile, read_bicep

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
PROVISION = INFRA / "provision"


@pytest.fixture(scope="session")
def inference_bicep() -> BicepFile:
    """Declarations of infra/provision/inference.bicep."""
    return read_bicep(PROVISION / "inference.bicep")


@pytest.fixture(scope="session")
def inference_arm() -> dict[str, Any]:
    """The committed compiled template infra/provision/inference.json."""
    return load_json(PROVISION / "inference.json")


@pytest.fixture(scope="session")
def inference_parameters() -> dict[str, Any]:
    """infra/provision/inference.parameters.json."""
    return load_json(PROVISION / "inference.parameters.json")


@pytest.fixture(scope="session")
def app_container(inference_arm: dict[str, Any]) -> dict[str, Any]:
    """The one container of the inference container app, as the ARM template declares it."""
    (app,) = [r for r in inference_arm["resources"] if r["type"] == "Microsoft.App/containerApps"]
    (container,) = app["properties"]["template"]["containers"]
    return dict(container)
