"""Driving this function app through devhost over HTTP, as a client would."""

import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from devtools.devhost.process import HostProcess
from devtools.tiny_model import TinyModelPaths
from service_settings import FUNCTION_APP_ROOT

TERMINAL = {"Completed", "Failed", "Terminated"}
HTTP_TIMEOUT = 30.0
"""Every request a test makes waits this long for an answer: a busy 2-core machine can be slow."""


def local_host(tiny_share: TinyModelPaths, root: Path, key: str) -> HostProcess:
    """This function app on devhost (not started), its local target in `root` with a copy of the tiny share."""
    shutil.copytree(tiny_share.share_dir, root / "share")
    env = {"LOCAL_TARGET_ROOT": str(root), "READINESS_POLL_SECONDS": "1"}
    return HostProcess(FUNCTION_APP_ROOT, root / "devhost", function_key=key, env=env)


def start(host: HostProcess, route: str, body: Any) -> httpx.Response:
    """POST a JSON body to /api/<route> with the function key."""
    return httpx.post(host.url(f"/api/{route}"), json=body, headers={"x-functions-key": host.key or ""},
                      timeout=HTTP_TIMEOUT)


def post_raw(host: HostProcess, route: str, content: bytes, content_type: str | None) -> httpx.Response:
    """POST bytes to /api/<route> with the function key and this Content-Type (none when None)."""
    headers = {"x-functions-key": host.key or ""} | ({"content-type": content_type} if content_type else {})
    return httpx.post(host.url(f"/api/{route}"), content=content, headers=headers, timeout=HTTP_TIMEOUT)


def status(host: HostProcess, instance_id: str) -> dict[str, Any]:
    """GET /api/status/<id>."""
    reply = httpx.get(host.url(f"/api/status/{instance_id}"), params={"code": host.key}, timeout=HTTP_TIMEOUT)
    reply.raise_for_status()
    return dict(reply.json())


def durable_status(host: HostProcess, instance_id: str) -> dict[str, Any]:
    """The Durable HTTP API's own status of an instance."""
    reply = httpx.get(host.url(f"/runtime/webhooks/durabletask/instances/{instance_id}"), params={"code": host.key},
                      timeout=HTTP_TIMEOUT)
    reply.raise_for_status()
    return dict(reply.json())


def wait_for(host: HostProcess, instance_id: str, timeout: float = 240, until: set[str] = TERMINAL) -> dict[str, Any]:
    """Poll until the runtime status is one of `until`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = status(host, instance_id)
        if current["runtimeStatus"] in until:
            return current
        time.sleep(0.2)
    raise AssertionError(f"{instance_id} not in {until} after {timeout} s: {status(host, instance_id)}")


def wait_for_step(host: HostProcess, instance_id: str, step: str, timeout: float = 240) -> dict[str, Any]:
    """Poll until the custom status names `step`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = status(host, instance_id)
        if (current.get("customStatus") or {}).get("step") == step:
            return current
        time.sleep(0.1)
    raise AssertionError(f"{instance_id} never reached step {step}: {status(host, instance_id)}")


def run(host: HostProcess, route: str, body: Any, timeout: float = 240) -> dict[str, Any]:
    """Start an orchestration and wait for it to end."""
    reply = start(host, route, body)
    assert reply.status_code == 202, reply.text
    return wait_for(host, reply.json()["id"], timeout)


def instances(host: HostProcess) -> list[dict[str, Any]]:
    """Every orchestration instance the host knows (Durable HTTP API)."""
    reply = httpx.get(host.url("/runtime/webhooks/durabletask/instances"), params={"code": host.key},
                      timeout=HTTP_TIMEOUT)
    reply.raise_for_status()
    return list(reply.json())
