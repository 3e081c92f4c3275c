"""A small client for the function app's HTTP API: start an orchestration, poll it, show progress."""

import time
from collections.abc import Callable
from typing import Any

import httpx
from azure.durable_functions import OrchestrationRuntimeStatus

from devtools.devhost.records import TERMINAL_STATUSES

TERMINAL = {status.value for status in TERMINAL_STATUSES}


def progress_line(progress: dict[str, Any]) -> str:
    """One line for a custom status: [step/total] message (detail)."""
    line = f"  [{progress.get('step_number', '-')}/{progress.get('total_steps', '-')}] {progress.get('message', '')}"
    return line + (f" ({progress['detail']})" if progress.get("detail") else "")


class FunctionAppClient:
    """Calls /api routes with the function key and follows orchestrations to the end."""

    def __init__(self, base_url: str, key: str | None, say: Callable[[str], None] = print) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30, headers={"x-functions-key": key} if key else {})
        self.say = say

    def start(self, route: str, body: dict[str, Any]) -> str:
        """POST a body; return the instance id of the orchestration it started."""
        reply = self.http.post(f"/api/{route}", json=body)
        if reply.status_code != 202:
            raise RuntimeError(f"POST /api/{route} answered {reply.status_code}: {reply.text}")
        return str(reply.json()["id"])

    def wait(self, instance_id: str, timeout: float = 600, interval: float = 0.5) -> dict[str, Any]:
        """Poll /api/status until the orchestration ends, printing each new progress step."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            status = self.http.get(f"/api/status/{instance_id}").json()
            progress = status.get("customStatus") or {}
            line = progress_line(progress)
            if progress and line != last:
                self.say(line)
                last = line
            if status["runtimeStatus"] in TERMINAL:
                return dict(status)
            time.sleep(interval)
        raise TimeoutError(f"orchestration {instance_id} did not finish within {timeout} s")

    def run(self, route: str, body: dict[str, Any]) -> Any:
        """Start and wait; return the output, or raise with the orchestration's error."""
        status = self.wait(self.start(route, body))
        if status["runtimeStatus"] != OrchestrationRuntimeStatus.Completed.value:
            raise RuntimeError(f"{route} {status['runtimeStatus']}: {status.get('error')}")
        return status["output"]

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()
