"""OAuth to Azure Files through the managed identity: what is refused, what is retried, and that no token leaks."""

import logging
import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.storage.fileshare import ShareClient

from service_settings import get_settings
from targets.azure.clients import default_credential, files_account_url
from targets.azure.listing import error_code
from tests.simulators.azure_files import DEFAULT_ACCOUNT
from tests.simulators.faults import FaultPlan
from tests.simulators.simulated_azure import SHARE_NAME, SimulatedAzure

pytest_plugins = ["tests.simulators.azure_fixtures"]


def put_file(simulated_azure: SimulatedAzure, headers: dict[str, str]) -> requests.Response:
    """Create File by hand, with exactly these headers (the SDK will not send a request without credentials)."""
    url = f"{simulated_azure.files.url}/{DEFAULT_ACCOUNT}/{SHARE_NAME}/a.txt"
    required = {"x-ms-version": "2026-10-06", "x-ms-type": "file", "x-ms-content-length": "0"}
    return requests.put(url, headers={**required, **headers}, timeout=30)


def test_a_request_without_a_token_is_401(simulated_azure: SimulatedAzure) -> None:
    response = put_file(simulated_azure, {"x-ms-file-request-intent": "backup"})
    assert response.status_code == 401
    assert response.headers["x-ms-error-code"] == "NoAuthenticationInformation"


def test_an_expired_token_is_401(simulated_azure: SimulatedAzure) -> None:
    share = simulated_azure.share()
    share.write_bytes("serving/current.json", b"{}")
    simulated_azure.tokens.expire_all()  # the clients still hold the token, now past its expiry
    with pytest.raises(ClientAuthenticationError) as refused:
        share.write_bytes("serving/current.json", b"{}")
    assert refused.value.status_code == 401 and error_code(refused.value) == "InvalidAuthenticationInfo"
    assert "expired" in str(refused.value.message)


def test_a_token_for_another_audience_is_401(simulated_azure: SimulatedAzure) -> None:
    management = ShareClient(
        files_account_url(get_settings()),
        SHARE_NAME,
        credential=default_credential(),
        token_intent="backup",
        audience="https://management.azure.com",
    )
    with pytest.raises(ClientAuthenticationError) as refused:
        management.get_file_client("a.txt").create_file(0)
    assert refused.value.status_code == 401 and error_code(refused.value) == "InvalidAuthenticationInfo"
    assert "audience is https://management.azure.com" in str(refused.value.message)


def test_a_valid_token_without_the_backup_intent_is_403(simulated_azure: SimulatedAzure) -> None:
    with pytest.raises(ValueError, match="token_intent"):  # the SDK itself refuses OAuth without an intent
        ShareClient(files_account_url(get_settings()), SHARE_NAME, credential=default_credential())
    token = default_credential().get_token("https://storage.azure.com/.default").token
    response = put_file(simulated_azure, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.headers["x-ms-error-code"] == "AuthorizationPermissionMismatch"


def test_a_throttled_identity_endpoint_is_retried_after_its_retry_after(simulated_azure: SimulatedAzure) -> None:
    default_credential.cache_clear()  # a new credential, with no token cached yet
    simulated_azure.identity.faults = FaultPlan(rate=1.0, kinds=("throttle",), limit=1)
    mark, started = len(simulated_azure.identity.log), time.monotonic()
    simulated_azure.share().write_bytes("serving/current.json", b"{}")
    assert [request.status for request in simulated_azure.identity.log[mark:]] == [429, 200]
    assert time.monotonic() - started >= 0.9  # Retry-After: 1 was honoured


def test_no_token_appears_in_logs_or_errors(simulated_azure: SimulatedAzure, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    share = simulated_azure.share()
    share.write_bytes("serving/current.json", b"{}")
    simulated_azure.tokens.expire_all()
    with pytest.raises(ClientAuthenticationError) as refused:
        share.read_bytes("serving/current.json")
    tokens = simulated_azure.tokens.issued()
    assert tokens and "'Authorization': 'REDACTED'" in caplog.text  # headers were logged, redacted
    exposed = [caplog.text, str(refused.value), repr(refused.value)]
    assert not [token for token in tokens if any(token in text for text in exposed)]
