"""Fixtures: one devhost subprocess per sample app, shared by a test module."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.process import HostProcess
from devtools.devhost.records import TERMINAL_STATUSES

APPS = Path(__file__).parent / "apps"
TEST_KEY = "devhost-test-key-7f3a"
HTTP_TIMEOUT = 30.0
"""Every request a test makes waits this long for an answer: a busy 2-core machine can be slow."""


def wait_for_status(status_url: str, statuses: Collection[Status] = TERMINAL_STATUSES, timeout: float = 60.0,
                    **params: Any) -> dict[str, Any]:
    """Poll a statusQueryGetUri until runtimeStatus is one of `statuses`; fail at the deadline."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        reply = httpx.get(status_url, params=params or None, timeout=HTTP_TIMEOUT)
        if reply.status_code in (200, 202):
            body = reply.json()
            if Status(body["runtimeStatus"]) in statuses:
                return body
        time.sleep(0.1)
    raise AssertionError(f"instance did not reach {statuses} within {timeout}s; last status: {body}")


def wait_until(predicate: Any, timeout: float = 60.0, what: str = "condition") -> None:
    """Poll a predicate until true; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def start(host: HostProcess, path: str, payload: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST to a starter route and return the check-status payload (asserting 202)."""
    reply = httpx.post(host.url(path), json=payload, headers=headers or {}, timeout=HTTP_TIMEOUT)
    assert reply.status_code == 202, reply.text
    return reply.json()


@pytest.fixture(scope="module")
def patterns_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    """The patterns sample app on its own host, no key."""
    with HostProcess(APPS / "patterns", tmp_path_factory.mktemp("patterns-state")) as host:
        yield host


@pytest.fixture(scope="module")
def approval_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    """The approval/monitor sample app (routePrefix "svc"), no key."""
    with HostProcess(APPS / "approval", tmp_path_factory.mktemp("approval-state")) as host:
        yield host
