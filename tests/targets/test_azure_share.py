"""The Azure Files share keeps the FileShare contract: the real SDK over HTTPS against the simulated Files service."""

import os
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from service_settings import get_settings
from share_layout.file_share import FileShare
from share_layout.manifest import md5_bytes
from targets.azure.clients import share_client
from targets.azure.listing import error_code
from tests.simulators.https_server import Request
from tests.simulators.simulated_azure import SimulatedAzure

pytest_plugins = ["tests.simulators.azure_fixtures"]

MiB = 1024 * 1024


def test_write_read_list_exists_delete_round_trip(simulated_azure: SimulatedAzure) -> None:
    share: FileShare = simulated_azure.share()
    files = {
        "serving/current.json": b'{"version": "v1"}',
        "serving/adapters/v1/adapter_config.json": b"{}",
        "serving/adapters/v1/nested/deeper/weights.bin": os.urandom(3000),
        "serving/adapters/v1/empty.txt": b"",
    }
    for path, data in files.items():
        share.write_bytes(path, data)
    assert share.list_files("serving") == {path.removeprefix("serving/"): md5_bytes(d) for path, d in files.items()}
    assert all(share.read_bytes(path) == data for path, data in files.items())
    assert share.exists("serving/adapters/v1/nested") and share.exists("serving/current.json")
    assert not share.exists("serving/adapters/v2") and not share.exists("nowhere/at/all")
    share.delete_file("serving/current.json")
    share.delete_file("serving/current.json")  # missing is fine
    assert not share.exists("serving/current.json")
    with pytest.raises(FileNotFoundError, match=r"serving/current\.json"):
        share.read_bytes("serving/current.json")
    assert share.list_files("missing/directory") == {}


def test_a_directory_moves_in_one_rename_keeping_its_files_md5s(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    share.write_many({"serving/staging/v1-abc/adapter_config.json": b"{}", "serving/staging/v1-abc/sub/w.bin": b"w"})
    staged = share.list_files("serving/staging/v1-abc")
    mark = len(simulated_azure.files.log)
    share.rename_directory("serving/staging/v1-abc", "serving/adapters/v1")
    assert simulated_azure.traffic_since(mark).operations == {"CreateDirectory": 1, "RenameDirectory": 1}
    assert share.list_files("serving/adapters/v1") == staged and not share.exists("serving/staging/v1-abc")
    share.write_bytes("serving/staging/v2-def/adapter_config.json", b"{}")
    with pytest.raises(ResourceExistsError):
        share.rename_directory("serving/staging/v2-def", "serving/adapters/v1")
    assert share.list_files("serving/adapters/v1") == staged


def test_a_directory_is_deleted_with_everything_under_it(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    share.write_many({"serving/staging/v1/a.json": b"{}", "serving/staging/v1/b/c/d.bin": b"d", "serving/x": b"x"})
    share.delete_directory("serving/staging/v1")
    share.delete_directory("serving/staging/v1")  # missing is fine
    assert share.list_files("serving") == {"x": md5_bytes(b"x")}
    share.write_bytes("serving/staging/v1/b/again.txt", b"again")  # the deleted directories are created anew
    assert share.read_bytes("serving/staging/v1/b/again.txt") == b"again"
    with pytest.raises(ValueError, match="whole share"):
        share.delete_directory("")


def test_files_land_at_their_share_paths_with_no_temporary_file_left(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    share.write_bytes("inference/inference_container/app.py", b"print('v1')\n")
    share.write_bytes("inference/inference_container/app.py", b"print('v2')\n")
    mounted = simulated_azure.share_dir / "inference/inference_container"
    assert [p.name for p in mounted.iterdir()] == ["app.py"]
    assert (mounted / "app.py").read_bytes() == b"print('v2')\n"


def test_a_file_larger_than_one_range_goes_up_in_ranges_and_comes_back_identical(
    simulated_azure: SimulatedAzure,
) -> None:
    share = simulated_azure.share()
    data = os.urandom(9 * MiB + 123)
    mark = len(simulated_azure.files.log)
    share.write_bytes("model-cache/org/model/model.safetensors", data)
    written = simulated_azure.traffic_since(mark)
    assert written.operations["PutRange"] == 3 and written.bytes_uploaded == len(data)
    mark = len(simulated_azure.files.log)
    assert share.read_bytes("model-cache/org/model/model.safetensors") == data
    assert simulated_azure.traffic_since(mark).operations["GetFile"] == 3
    assert share.list_files("model-cache") == {"org/model/model.safetensors": md5_bytes(data)}


def test_readers_never_see_a_partial_file(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    old, new = b"a" * (5 * MiB), b"b" * (5 * MiB)
    share.write_bytes("serving/adapters/v1/adapter_model.safetensors", old)
    target = simulated_azure.share_dir / "serving/adapters/v1/adapter_model.safetensors"
    seen: list[bytes] = []
    partial_temporaries: list[Path] = []

    def observe(request: Request) -> None:
        seen.append(target.read_bytes())
        for temporary in target.parent.glob(".*.tmp"):
            if temporary.read_bytes() not in (b"", new):
                partial_temporaries.append(temporary)

    simulated_azure.files.before_request = observe
    share.write_bytes("serving/adapters/v1/adapter_model.safetensors", new)
    simulated_azure.files.before_request = None
    assert set(seen) <= {old, new} and len(seen) >= 4
    assert partial_temporaries, "the upload was never seen midway: the test would prove nothing"
    assert target.read_bytes() == new


def test_a_file_written_without_stored_md5_is_hashed_from_its_content(simulated_azure: SimulatedAzure) -> None:
    adapter = simulated_azure.share_dir / "models/qlora/qlora/gpu_model/adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_bytes(b'{"r": 8}')  # as the training job writes it, over SMB
    share = simulated_azure.share()
    assert share.list_files("models") == {"qlora/qlora/gpu_model/adapter/adapter_config.json": md5_bytes(b'{"r": 8}')}


def test_listing_follows_continuation_markers(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    share.write_many({f"inference/file{index:02}.py": f"x = {index}\n".encode() for index in range(7)})
    simulated_azure.files_app.page_cap = 3
    mark = len(simulated_azure.files.log)
    assert sorted(share.list_files("inference")) == [f"file{index:02}.py" for index in range(7)]
    listings = [r for r in simulated_azure.traffic_since(mark).requests if r.operation == "ListDirectoriesAndFiles"]
    assert [bool(r.query.get("marker")) for r in listings] == [False, True, True]


def test_paths_outside_the_share_are_refused(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    for path in ("../escaped.txt", "/absolute.txt", "a/../../b", "back\\slash"):
        with pytest.raises(ValueError, match="outside the share"):
            share.write_bytes(path, b"x")
    assert [p.name for p in simulated_azure.share_dir.iterdir()] == []


def test_operations_the_simulator_does_not_implement_are_refused_by_name(simulated_azure: SimulatedAzure) -> None:
    client = share_client(get_settings()).get_file_client("a.txt")
    client.create_file(0)
    with pytest.raises(HttpResponseError) as refused:
        client.acquire_lease()
    assert refused.value.status_code == 400 and error_code(refused.value) == "UnsupportedOperation"
    assert "PUT ?comp=lease" in str(refused.value.message)
