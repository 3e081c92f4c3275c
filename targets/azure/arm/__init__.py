"""Provisioning on Azure: the ARM deployment of infra/provision/inference.json (parameters, start, read, errors)."""
