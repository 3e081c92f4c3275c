"""An adapter snapshot on Azure Files is copied inside the service (Copy File): no adapter byte goes up."""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from azure.core.exceptions import ResourceNotFoundError

from activities import snapshot_adapter as snapshot_module
from service_settings import get_settings
from share_layout import paths
from share_layout.manifest import manifest_of_directory, md5_bytes
from targets.azure.clients import share_client
from targets.azure.file_copy import CopyFailed, CopyWait
from targets.azure.listing import error_code
from targets.azure.share import AzureFileShare
from tests.function_app.invoke import user_function
from tests.simulators.faults import FaultPlan
from tests.simulators.https_server import Request
from tests.simulators.simulated_azure import SHARE_NAME, SimulatedAzure

pytest_plugins = ["tests.simulators.azure_fixtures"]

MiB = 1024 * 1024
snapshot = user_function(snapshot_module.snapshot_adapter)


@pytest.fixture
def adapter(simulated_azure: SimulatedAzure, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Training output on the share as training writes it, through the mount (so with no stored MD5)."""
    monkeypatch.setattr(snapshot_module, "get_target", lambda *_: SimpleNamespace(share=simulated_azure.share()))
    directory = simulated_azure.share_dir / paths.TRAINING_ADAPTER
    directory.mkdir(parents=True)
    (directory / "adapter_config.json").write_text('{"r": 8}')
    (directory / "adapter_model.safetensors").write_bytes(os.urandom(5 * MiB + 17))  # over one 4 MiB range
    return directory


def request(version: str | None = None) -> dict[str, object]:
    return {"target": "azure", "app_name": "app-one", "adapter_source": paths.TRAINING_ADAPTER, "version": version}


def stored_md5s(version: str) -> dict[str, str | None]:
    """The Content-MD5 each file of a snapshot has stored on the share, as the SDK reads it."""
    client = share_client(get_settings())
    folder = paths.adapter_version_dir(version)
    names = ("adapter_config.json", "adapter_model.safetensors")
    md5s = (
        client.get_file_client(f"{folder}/{name}").get_file_properties().content_settings.content_md5 for name in names
    )
    return {name: bytes(md5).hex() if md5 else None for name, md5 in zip(names, md5s, strict=True)}


def leftovers(simulated_azure: SimulatedAzure) -> list[str]:
    """Version folders and staging content on the share."""
    share = simulated_azure.share_dir
    return sorted(
        str(p.relative_to(share))
        for folder in ("serving/adapters", "serving/staging")
        for p in (share / folder).glob("*")
    )


def test_a_snapshot_uploads_no_adapter_byte_and_its_copies_are_identical_with_their_md5_stored(
    simulated_azure: SimulatedAzure, adapter: Path
) -> None:
    mark = len(simulated_azure.files.log)
    result = snapshot(request())
    traffic = simulated_azure.traffic_since(mark)
    version_dir = simulated_azure.share_dir / paths.adapter_version_dir(result["version"])
    manifest_bytes = (version_dir / paths.SNAPSHOT_MANIFEST).stat().st_size
    assert traffic.operations["CopyFile"] == result["files_copied"] == 2
    assert "PutRange" not in traffic.operations and traffic.bytes_uploaded == manifest_bytes  # only the manifest
    assert all(r.bytes_in == 0 for r in traffic.requests if r.operation == "CopyFile")
    copied = {name: md5 for name, md5 in manifest_of_directory(version_dir).items() if name != paths.SNAPSHOT_MANIFEST}
    assert copied == manifest_of_directory(adapter)
    assert stored_md5s(result["version"]) == copied
    assert leftovers(simulated_azure) == [paths.adapter_version_dir(result["version"])]


def test_pending_copies_are_waited_for(simulated_azure: SimulatedAzure, adapter: Path) -> None:
    simulated_azure.files_app.copies.pending_chance = 1.0
    simulated_azure.files_app.copies.pending_s = 0.3
    seen_pending: list[int] = []

    def observe(request: Request) -> None:  # a poll while a copy is pending sees an empty destination
        target = simulated_azure.share_dir / request.path.split(f"/{SHARE_NAME}/", 1)[-1]
        if request.method == "HEAD" and "staging" in request.path and target.is_file():
            seen_pending.append(target.stat().st_size)

    simulated_azure.files.before_request = observe
    result = snapshot(request(version="v1"))
    simulated_azure.files.before_request = None
    assert 0 in seen_pending, "no copy was seen pending: the test would prove nothing"
    version_dir = simulated_azure.share_dir / paths.adapter_version_dir("v1")
    assert (version_dir / "adapter_model.safetensors").read_bytes() == (
        adapter / "adapter_model.safetensors"
    ).read_bytes()
    assert stored_md5s(result["version"]) == manifest_of_directory(adapter)


def test_a_copy_that_fails_leaves_no_version_folder(simulated_azure: SimulatedAzure, adapter: Path) -> None:
    simulated_azure.files_app.copies.pending_chance = 1.0
    weights = adapter / "adapter_model.safetensors"

    def change_the_source_midway(request: Request) -> None:  # the service fails a copy whose source changes
        if request.method == "HEAD" and "staging" in request.path and weights.stat().st_size % 2:
            with weights.open("ab") as handle:
                handle.write(b"!")

    simulated_azure.files.before_request = change_the_source_midway
    with pytest.raises(CopyFailed, match="failed"):
        snapshot(request(version="v2"))
    simulated_azure.files.before_request = None
    assert leftovers(simulated_azure) == []
    simulated_azure.files_app.copies.pending_chance = 0.0
    assert snapshot(request(version="v2"))["files_copied"] == 2
    assert leftovers(simulated_azure) == [paths.adapter_version_dir("v2")]


def test_a_copy_still_pending_at_its_deadline_is_aborted(simulated_azure: SimulatedAzure) -> None:
    simulated_azure.files_app.copies.pending_chance, simulated_azure.files_app.copies.pending_s = 1.0, 60.0
    share = AzureFileShare(share_client(get_settings()), copy_wait=CopyWait(timeout_s=0.3, first_poll_s=0.05))
    share.write_bytes("outputs/a.bin", b"a" * 1000)
    mark = len(simulated_azure.files.log)
    with pytest.raises(TimeoutError, match="still pending"):
        share.copy_files("outputs", "serving/staging/x", {"a.bin": md5_bytes(b"a" * 1000)})
    assert simulated_azure.traffic_since(mark).operations["AbortCopyFile"] == 1
    props = share_client(get_settings()).get_file_client("serving/staging/x/a.bin").get_file_properties()
    assert (props.copy.status, props.size) == ("aborted", 0)


def test_a_copy_retried_after_its_reply_was_lost_waits_for_the_copy_it_started(
    simulated_azure: SimulatedAzure,
) -> None:
    simulated_azure.files_app.copies.pending_chance = 1.0
    share = simulated_azure.share()
    data = os.urandom(3000)
    share.write_bytes("outputs/w.bin", data)
    share.ensure_directories(("serving/staging/y",))
    faults = FaultPlan(rate=1.0, kinds=("lost",), limit=1, when=lambda method, query: method == "PUT" and not query)
    simulated_azure.files.faults = faults
    mark = len(simulated_azure.files.log)
    share.copy_files("outputs", "serving/staging/y", {"w.bin": md5_bytes(data)})
    simulated_azure.files.faults = None
    assert faults.injected == ["lost"]
    assert simulated_azure.traffic_since(mark).operations["CopyFile:PendingCopyOperation"] == 1
    assert share.read_bytes("serving/staging/y/w.bin") == data


def test_a_copy_whose_source_changed_since_it_was_listed_is_refused(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    share.write_bytes("outputs/c.json", b"new")  # stored MD5: the copy carries it
    with pytest.raises(CopyFailed, match="changed since it was listed"):
        share.copy_files("outputs", "serving/staging/z", {"c.json": md5_bytes(b"old")})


def test_a_source_in_another_account_or_missing_cannot_be_verified(simulated_azure: SimulatedAzure) -> None:
    files_app, base = simulated_azure.files_app, simulated_azure.files.url
    files_app.add_account("otheraccount")
    files_app.ensure_share("otheraccount", SHARE_NAME)
    (files_app.share_dir(SHARE_NAME, "otheraccount") / "f.bin").write_bytes(b"x")
    destination = share_client(get_settings()).get_file_client("copy.bin")
    for source in (f"{base}/otheraccount/{SHARE_NAME}/f.bin", f"{base}/{files_app.account}/{SHARE_NAME}/missing.bin"):
        with pytest.raises(ResourceNotFoundError) as caught:
            destination.start_copy_from_url(source)
        assert error_code(caught.value) == "CannotVerifyCopySource"
    assert not (simulated_azure.share_dir / "copy.bin").exists()
