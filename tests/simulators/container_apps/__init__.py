"""A simulated Azure Container Apps (Microsoft.App REST over HTTPS) whose apps run the real inference server locally."""

from tests.simulators.container_apps.app import ARM_AUDIENCE, ContainerAppsApp

__all__ = ["ARM_AUDIENCE", "ContainerAppsApp"]
