"""A simulated Azure Files service (file REST API over HTTPS), backed by a directory per share."""

from tests.simulators.azure_files.app import DEFAULT_ACCOUNT, AzureFilesApp

__all__ = ["DEFAULT_ACCOUNT", "AzureFilesApp"]
