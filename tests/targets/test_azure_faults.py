"""Faults the Azure share meets: replies lost after the service acted, and throttling the storage SDK does not retry."""

import pytest
from azure.core.exceptions import HttpResponseError

from tests.simulators.faults import FaultPlan
from tests.simulators.simulated_azure import SimulatedAzure

pytest_plugins = ["tests.simulators.azure_fixtures"]


def renames(method: str, query: dict[str, str]) -> bool:
    """Only Rename File and Rename Directory requests."""
    return query.get("comp") == "rename"


def test_a_rename_whose_reply_was_lost_is_recognised_as_done(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    share.write_bytes("serving/current.json", b'{"version": "v1"}')
    simulated_azure.files.faults = FaultPlan(rate=1.0, kinds=("lost",), limit=1, when=renames)
    mark = len(simulated_azure.files.log)
    share.write_bytes("serving/current.json", b'{"version": "v2"}')
    operations = [request.operation for request in simulated_azure.traffic_since(mark).requests]
    assert operations == ["CreateFile", "RenameFile", "RenameFile:ResourceNotFound", "GetFileProperties"]
    assert (simulated_azure.share_dir / "serving/current.json").read_bytes() == b'{"version": "v2"}'
    assert [path.name for path in (simulated_azure.share_dir / "serving").iterdir()] == ["current.json"]


def test_a_directory_rename_whose_reply_was_lost_is_recognised_as_done(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    share.write_bytes("serving/staging/v1-abc/adapter_config.json", b"{}")
    simulated_azure.files.faults = FaultPlan(rate=1.0, kinds=("lost",), limit=1, when=renames)
    mark = len(simulated_azure.files.log)
    share.rename_directory("serving/staging/v1-abc", "serving/adapters/v1")
    assert "RenameDirectory:ResourceNotFound" in simulated_azure.traffic_since(mark).operations
    assert sorted(share.list_files("serving")) == ["adapters/v1/adapter_config.json"]


def test_a_429_from_files_is_not_retried_by_the_storage_sdk(simulated_azure: SimulatedAzure) -> None:
    """azure-storage-file-share retries 408 and 5xx only: Azure Storage throttles with 503 ServerBusy, not 429."""
    simulated_azure.files.faults = FaultPlan(rate=1.0, kinds=("throttle",), limit=1)
    with pytest.raises(HttpResponseError) as refused:
        simulated_azure.share().write_bytes("serving/current.json", b"{}")
    assert refused.value.status_code == 429
    assert not (simulated_azure.share_dir / "serving").exists()
