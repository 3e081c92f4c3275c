"""Helpers for tests that drive the simulated ARM with the real SDK clients: clients, the committed template, values."""

import json
from pathlib import Path
from typing import Any, cast

from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.deployments.models import Deployment, DeploymentExtended, DeploymentProperties
from azure.mgmt.resource.resources import ResourceManagementClient

from targets.azure.clients import default_credential
from tests.simulators.arm.unique_string import unique_string

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_FILE = ROOT / "infra/provision/inference.json"
PARAMETERS_FILE = ROOT / "infra/provision/inference.parameters.json"
ARM_SCOPES = ["https://management.azure.com/.default"]
IMAGE = "myregistry.azurecr.io/finetune-inference:1"
API_KEY = "sk-deploy-0123456789abcdefghijklmnopq"
ADMIN_KEY = "admin-deploy-0123456789abcdefghijklm"
ALL_RESOURCES = ["storageAccount", "fileShare", "logAnalytics", "environment", "environmentStorage"]


def template() -> dict[str, Any]:
    """A fresh copy of the committed template (tests may change it)."""
    loaded: dict[str, Any] = json.loads(TEMPLATE_FILE.read_text())
    return loaded


def parameters(**overrides: Any) -> dict[str, dict[str, Any]]:
    """The committed parameters file's values with nulls dropped (defaults apply), an image, an API key, every
    resource created; `overrides` replace values (an override of None removes the parameter)."""
    values = {name: entry["value"] for name, entry in json.loads(PARAMETERS_FILE.read_text())["parameters"].items()
              if entry["value"] is not None}
    values.update(containerImage=IMAGE, apiKey=API_KEY, adminKey=ADMIN_KEY, resourcesToCreate=ALL_RESOURCES)
    values.update(overrides)
    return {name: {"value": value} for name, value in values.items() if value is not None}


def suffix(subscription: str, resource_group: str) -> str:
    """The template's default name suffix for a resource group."""
    return unique_string(f"/subscriptions/{subscription}/resourceGroups/{resource_group}")[:5]


def resource_clients(url: str, subscription: str) -> tuple[ResourceManagementClient, DeploymentsMgmtClient]:
    """The real SDK clients on the simulated ARM endpoint."""
    return (ResourceManagementClient(default_credential(), subscription, base_url=url, credential_scopes=ARM_SCOPES),
            DeploymentsMgmtClient(default_credential(), subscription, base_url=url, credential_scopes=ARM_SCOPES))


def deploy(client: DeploymentsMgmtClient, resource_group: str, name: str, body: dict[str, Any] | None = None,
           parameter_values: dict[str, dict[str, Any]] | None = None) -> DeploymentExtended:
    """PUT an incremental deployment and wait for it (HttpResponseError when it fails)."""
    values = parameter_values if parameter_values is not None else parameters()
    properties = DeploymentProperties(mode="Incremental", template=body or template(),
                                      parameters=cast(dict[str, Any], values))  # plain JSON: nulls stay as sent
    poller = client.deployments.begin_create_or_update(resource_group, name, Deployment(properties=properties))
    return poller.result(timeout=120)
