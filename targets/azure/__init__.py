"""The Azure target: Azure Files through azure-storage-file-share, with the one DefaultAzureCredential."""
