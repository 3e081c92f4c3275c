"""Which API versions a resource's properties are checked against: the Azure SDKs' own generated models.

Microsoft.App bodies are checked by the Container Apps simulator against azure-mgmt-appcontainers 5.1.0's models
(api-version 2026-07-01; tests/simulators/container_apps/schema.py walks their declared JSON names), so a template
resource of that namespace must use that api-version: any property it does not define fails the resource with
InvalidRequestContent naming the property path. No SDK for Microsoft.Storage 2024-01-01 or
Microsoft.OperationalInsights 2023-09-01 is installed, so those bodies are not checked property by property.
"""

from tests.simulators.container_apps.replies import API_VERSION as APP_API_VERSION
from tests.simulators.container_apps.replies import ArmError

MODEL_API_VERSIONS = {"microsoft.app": (APP_API_VERSION, "azure-mgmt-appcontainers 5.1.0")}


def check_api_version(resource_type: str, api_version: str) -> None:
    """400 NoRegisteredProviderFound for an api-version whose models the simulator cannot check against."""
    namespace = resource_type.split("/")[0].lower()
    known = MODEL_API_VERSIONS.get(namespace)
    if known is not None and api_version != known[0]:
        raise ArmError(400, "NoRegisteredProviderFound",
                       f"The api-version '{api_version}' of resource type '{resource_type}' is not simulated: its "
                       f"properties are checked against {known[1]}'s models, api-version {known[0]}.")
