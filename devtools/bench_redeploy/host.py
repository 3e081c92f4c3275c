"""The function app on devhost for the benchmark: a snapshot of this tree, the local target in a temp root.

The devhost serves a copy of the function app (code only), so the server code it deploys is fixed for the run (other
work on this tree cannot turn a swap into a blue-green), and `change_server_code` can make a code redeploy with one
harmless edit (a comment) that changes the code hash, without touching the tree.
"""

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from devtools.child_process import (
    ADDRESS_IN_USE,
    PORT_ATTEMPTS,
    ServerStartError,
    child_env,
    launch,
    log_tail,
    stop_process,
    wait_until_answers,
)
from devtools.devhost.process import reports_running
from service_settings import FUNCTION_APP_ROOT
from targets.local.app_files import AppFiles
from targets.local.ports import LOOPBACK, free_port
from targets.local.process_control import stop_all

SKIPPED = (".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".whl", ".local", ".devhost", "tests",
           "__pycache__", "*.egg-info", "*.pyc")
TERMINAL = {"Completed", "Failed", "Terminated"}
HTTP_TIMEOUT = 30.0
CODE_EDIT = "\n# bench-redeploy: a harmless edit that changes the server code's hash\n"


@dataclass
class Deploy:
    """One orchestration as the benchmark saw it: monotonic start and end, and its final /api/status."""

    started: float
    ended: float
    status: dict[str, Any]

    @property
    def strategy(self) -> str:
        output = self.status.get("output") or {}
        return str(output.get("strategy", "?"))

    @property
    def total_seconds(self) -> float:
        """lastUpdatedTime - createdTime of the instance (the orchestration's own clock)."""
        created, updated = (self.status.get(key) for key in ("createdTime", "lastUpdatedTime"))
        if not created or not updated:
            return self.ended - self.started
        return _iso(updated) - _iso(created)


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class BenchHost:
    """A devhost child serving a copy of the function app; the local target's root and share under `root`."""

    root: Path
    key: str = "bench-redeploy-key"
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.app_dir = self.root / "function-app"
        self.share = self.root / "share"
        self.log_path = self.root / "devhost.log"

    def start(self) -> "BenchHost":
        """Copy the app, start devhost on it and wait until it reports Running."""
        shutil.copytree(FUNCTION_APP_ROOT, self.app_dir, ignore=shutil.ignore_patterns(*SKIPPED))
        env = child_env({"PYTHONPATH": str(self.app_dir), "LOCAL_TARGET_ROOT": str(self.root),
                         "READINESS_POLL_SECONDS": "1", "DEVHOST_FUNCTION_KEY": self.key})
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = free_port()
            argv = [sys.executable, "-m", "devtools.devhost", "--app-dir", str(self.app_dir), "--port",
                    str(self.port), "--state-dir", str(self.root / "devhost")]
            self.process = launch(argv, env, self.log_path, cwd=self.app_dir)
            try:
                wait_until_answers(self.url("/admin/host/status"), self.process, self.log_path, 120.0,
                                   accept=reports_running)
                return self
            except ServerStartError:
                stop_process(self.process)
                if attempt == PORT_ATTEMPTS or ADDRESS_IN_USE not in log_tail(self.log_path):
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def stop(self) -> None:
        """Stop every app supervisor (and its servers) under the root, then the host."""
        try:
            stop_all(self.root / "apps")
        finally:
            if self.process is not None:
                stop_process(self.process)

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}/{path.lstrip('/')}"

    def status(self, instance_id: str) -> dict[str, Any]:
        reply = httpx.get(self.url(f"/api/status/{instance_id}"), params={"code": self.key}, timeout=HTTP_TIMEOUT)
        reply.raise_for_status()
        return dict(reply.json())

    def run(self, route: str, body: dict[str, Any], timeout: float = 300.0) -> Deploy:
        """POST /api/<route> and poll /api/status until the orchestration ends."""
        started = time.monotonic()
        reply = httpx.post(self.url(f"/api/{route}"), json=body, headers={"x-functions-key": self.key},
                           timeout=HTTP_TIMEOUT)
        if reply.status_code != 202:
            raise RuntimeError(f"POST /api/{route} answered {reply.status_code}: {reply.text}")
        instance_id = reply.json()["id"]
        while time.monotonic() - started < timeout:
            current = self.status(instance_id)
            if current["runtimeStatus"] in TERMINAL:
                return Deploy(started, time.monotonic(), current)
            time.sleep(0.2)
        raise TimeoutError(f"{route} {instance_id} did not end in {timeout:.0f} s: {self.status(instance_id)}")

    def app(self, name: str) -> tuple[str, str]:
        """The app's endpoint and API key."""
        files = AppFiles(self.root / "apps" / name)
        spec = files.read_spec()
        if spec is None:
            raise RuntimeError(f"app {name} has no app.json under {files.dir}")
        return f"http://{LOOPBACK}:{spec.port}", files.ensure_api_key()

    def change_server_code(self) -> None:
        """One harmless edit in the copy's inference server code: the next deploy sees another code hash."""
        with (self.app_dir / "inference_container" / "__init__.py").open("a") as handle:
            handle.write(CODE_EDIT)
