"""A registered app's place (subscription, resource group, storage account, share) over the Azure app settings:
which Files account and share, and which subscription and group the Azure target reaches."""

import pytest

from payloads.steps import AzurePlace
from service_settings import ServiceSettings, get_settings
from targets import TargetNotConfigured, get_target
from targets.azure.clients import account_endpoint
from tests.simulators.simulated_azure import RESOURCE_GROUP, SHARE_NAME, SUBSCRIPTION_ID, SimulatedContainerApps

pytest_plugins = ["tests.simulators.azure_fixtures"]

OTHER_SUBSCRIPTION = "0b9e6c1d-2f3a-4e5b-8c7d-9a0b1c2d3e4f"
OTHER = AzurePlace(subscription_id=SUBSCRIPTION_ID, resource_group="rg-other", storage_account="otheracct",
                   file_share="othershare")


@pytest.mark.parametrize(("endpoint", "expected"), [
    ("https://127.0.0.1:4443/devstoreaccount1", "https://127.0.0.1:4443/otheracct"),
    ("https://127.0.0.1:4443/devstoreaccount1/", "https://127.0.0.1:4443/otheracct"),
    ("https://127.0.0.1:4443", "https://127.0.0.1:4443/otheracct"),
    ("http://localhost:10000/devstoreaccount1", "http://localhost:10000/otheracct"),
    ("https://files.example.test/first", "https://files.example.test/otheracct"),
    ("https://first.file.core.chinacloudapi.cn", "https://otheracct.file.core.chinacloudapi.cn"),
    ("https://first.privatelink.file.core.windows.net:443/", "https://otheracct.privatelink.file.core.windows.net:443"),
])
def test_the_files_endpoint_is_turned_to_the_place_s_account(endpoint: str, expected: str) -> None:
    assert account_endpoint(endpoint, "otheracct") == expected


def test_a_place_configures_the_azure_target_where_the_app_settings_are_missing() -> None:
    bare = ServiceSettings.model_construct()
    with pytest.raises(TargetNotConfigured) as refused:
        get_target("azure", bare)
    assert set(refused.value.missing) == {"AZURE_STORAGE_ACCOUNT", "AZURE_FILE_SHARE", "AZURE_SUBSCRIPTION_ID",
                                          "AZURE_RESOURCE_GROUP"}
    get_target("azure", bare, OTHER)  # configured by the place alone (clients are built, nothing is sent)


def test_a_place_s_account_and_share_are_written_and_the_settings_share_is_not(
    simulated_container_apps: SimulatedContainerApps,
) -> None:
    files_app = simulated_container_apps.azure.files_app
    files_app.add_account(OTHER.storage_account)
    files_app.ensure_share(OTHER.storage_account, OTHER.file_share)
    placed = get_target("azure", get_settings(), OTHER).share
    settings_share = get_target("azure", get_settings()).share
    placed.write_bytes("serving/placed.txt", b"placed")
    settings_share.write_bytes("serving/settings.txt", b"settings")
    placed.write_bytes("serving/placed-again.txt", b"again")  # each target keeps its own account's client

    other_dir = files_app.share_dir(OTHER.file_share, OTHER.storage_account)
    settings_dir = files_app.share_dir(SHARE_NAME)
    assert sorted(path.name for path in (other_dir / "serving").iterdir()) == ["placed-again.txt", "placed.txt"]
    assert sorted(path.name for path in (settings_dir / "serving").iterdir()) == ["settings.txt"]
    assert placed.read_bytes("serving/placed.txt") == b"placed" and not placed.exists("serving/settings.txt")


def test_a_place_s_subscription_and_group_are_where_the_app_is_looked_for(
    simulated_container_apps: SimulatedContainerApps,
) -> None:
    arm = simulated_container_apps.arm
    elsewhere = OTHER.model_copy(update={"subscription_id": OTHER_SUBSCRIPTION})
    mark = len(arm.log)
    assert get_target("azure", get_settings(), elsewhere).apps.is_provisioned("chat") is False
    assert get_target("azure", get_settings()).apps.is_provisioned("chat") is False
    paths = [request.path for request in arm.log[mark:]]
    assert paths[0].startswith(f"/subscriptions/{OTHER_SUBSCRIPTION}/resourceGroups/rg-other/")
    assert paths[-1].startswith(f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/")
    with pytest.raises(LookupError, match="not in resource group 'rg-other'"):
        get_target("azure", get_settings(), OTHER).apps.restart("chat", "model-cache/x", "v1")
