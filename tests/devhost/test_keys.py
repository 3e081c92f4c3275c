"""With a function key configured, FUNCTION routes and the durable API need it; ANONYMOUS routes do not."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.process import HostProcess
from tests.devhost.conftest import APPS, HTTP_TIMEOUT, TEST_KEY, wait_for_status

pytestmark = pytest.mark.slow  # every test here talks to a devhost subprocess

API = "/runtime/webhooks/durabletask"


@pytest.fixture(scope="module")
def keyed_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    """The patterns app with a function key."""
    with HostProcess(APPS / "patterns", tmp_path_factory.mktemp("keyed-state"), function_key=TEST_KEY) as host:
        yield host


def _instances(host: HostProcess) -> list[dict[str, object]]:
    reply = httpx.get(host.url(f"{API}/instances"), params={"code": TEST_KEY}, timeout=HTTP_TIMEOUT)
    assert reply.status_code == 200
    return reply.json()


def test_missing_or_wrong_key_is_401_and_starts_nothing(keyed_host: HostProcess) -> None:
    assert httpx.post(keyed_host.url("/api/orchestrators/chaining"), timeout=HTTP_TIMEOUT).status_code == 401
    wrong = httpx.post(keyed_host.url("/api/orchestrators/chaining"), params={"code": "wrong"}, timeout=HTTP_TIMEOUT)
    assert wrong.status_code == 401
    wrong_header = httpx.post(keyed_host.url("/api/orchestrators/chaining"), headers={"x-functions-key": "nope"},
                              timeout=HTTP_TIMEOUT)
    assert wrong_header.status_code == 401
    assert httpx.post(keyed_host.url(f"{API}/orchestrators/chaining"), timeout=HTTP_TIMEOUT).status_code == 401
    assert _instances(keyed_host) == []


def test_key_in_header_or_query_is_accepted_and_status_links_carry_it(keyed_host: HostProcess) -> None:
    reply = httpx.post(keyed_host.url("/api/orchestrators/chaining"), headers={"x-functions-key": TEST_KEY},
                       timeout=HTTP_TIMEOUT)
    assert reply.status_code == 202
    links = reply.json()
    assert f"code={TEST_KEY}" in links["statusQueryGetUri"]
    status = wait_for_status(links["statusQueryGetUri"])
    assert status["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    by_query = httpx.get(keyed_host.url(f"/api/status/{links['id']}"), params={"code": TEST_KEY}, timeout=HTTP_TIMEOUT)
    assert by_query.json()["runtimeStatus"] == Status.Completed.value


def test_durable_api_needs_the_key(keyed_host: HostProcess) -> None:
    assert httpx.get(keyed_host.url(f"{API}/instances"), timeout=HTTP_TIMEOUT).status_code == 401
    assert httpx.get(keyed_host.url(f"{API}/instances/anything"), timeout=HTTP_TIMEOUT).status_code == 401
    keyed = httpx.get(keyed_host.url(f"{API}/instances/anything"), params={"code": TEST_KEY}, timeout=HTTP_TIMEOUT)
    assert keyed.status_code == 404


def test_anonymous_route_needs_no_key(keyed_host: HostProcess) -> None:
    assert httpx.get(keyed_host.url("/api/ping"), timeout=HTTP_TIMEOUT).text == "pong"


def test_key_never_appears_in_logs(keyed_host: HostProcess) -> None:
    httpx.post(keyed_host.url("/api/orchestrators/chaining"), params={"code": TEST_KEY}, timeout=HTTP_TIMEOUT)
    assert TEST_KEY not in keyed_host.logs()
