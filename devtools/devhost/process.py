"""Run `python -m devtools.devhost` as a subprocess, for tests and demos: start, wait until ready, kill, restart."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from service_settings import FUNCTION_APP_ROOT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HostProcess:
    """A devhost subprocess serving `app_dir` with state in `state_dir`; a context manager that always cleans up."""

    def __init__(self, app_dir: str | Path, state_dir: str | Path, port: int | None = None,
                 function_key: str | None = None, env: dict[str, str] | None = None,
                 startup_timeout: float = 60.0) -> None:
        self.app_dir = Path(app_dir).resolve()
        self.state_dir = Path(state_dir).resolve()
        self.port = port or free_port()
        self.key = function_key or (env or {}).get("DEVHOST_FUNCTION_KEY")
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self._extra_env = dict(env or {})
        self._log_path = Path(tempfile.mkdtemp(prefix="devhost-logs-")) / "host.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._closed_logs: str | None = None

    def _env(self) -> dict[str, str]:
        env = {**os.environ, **self._extra_env}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(FUNCTION_APP_ROOT), env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("DEVHOST_FUNCTION_KEY", None)
        if self.key:
            env["DEVHOST_FUNCTION_KEY"] = self.key
        return env

    def start(self) -> HostProcess:
        """Start the host (again, on the same state dir and port) and wait until it reports Running."""
        if self.running:
            return self
        if self._closed_logs is not None:  # started again after close(): keep the earlier logs
            self._log_path = Path(tempfile.mkdtemp(prefix="devhost-logs-")) / "host.log"
            self._log_path.write_text(self._closed_logs)
            self._closed_logs = None
        command = [sys.executable, "-m", "devtools.devhost", "--app-dir", str(self.app_dir), "--port", str(self.port),
                   "--state-dir", str(self.state_dir)]
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self._env(),
                                             cwd=str(FUNCTION_APP_ROOT), start_new_session=True)
        atexit.register(self.kill)
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"devhost exited with {self._process.returncode}:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/admin/host/status", timeout=2) as reply:
                    if json.loads(reply.read()).get("state") == "Running":
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"devhost did not report Running within {self.startup_timeout}s:\n{self.logs()}")

    @property
    def running(self) -> bool:
        """Whether the subprocess is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code of the last subprocess, None while it runs or before the first start."""
        return None if self._process is None else self._process.poll()

    def kill(self) -> None:
        """SIGKILL the host, as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=30)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL; returns the exit code."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self._process.returncode

    def logs(self) -> str:
        """Everything the host wrote to stdout and stderr so far, over all starts."""
        if self._closed_logs is not None:
            return self._closed_logs
        return self._log_path.read_text(errors="replace") if self._log_path.exists() else ""

    def close(self) -> None:
        """Stop the host and remove its temporary log file (logs() still answers from memory)."""
        self.stop()
        if self._closed_logs is None:
            self._closed_logs = self.logs()
            shutil.rmtree(self._log_path.parent, ignore_errors=True)

    def url(self, path: str) -> str:
        """An absolute URL on this host for a path like `/api/ping`."""
        return self.base_url + "/" + path.lstrip("/")

    def __enter__(self) -> HostProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
