"""Run `python -m devtools.devhost` as a subprocess, for tests and demos: start, wait until ready, kill, restart."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

import httpx

from devtools.child_process import (
    ADDRESS_IN_USE,
    PORT_ATTEMPTS,
    ServerStartError,
    child_env,
    kill_group,
    launch,
    log_tail,
    stop_process,
    wait_until_answers,
)
from service_settings import FUNCTION_APP_ROOT
from targets.local.ports import LOOPBACK, free_port


def reports_running(reply: httpx.Response) -> bool:
    """Whether the host status answer says the host is Running."""
    return reply.status_code == 200 and reply.json().get("state") == "Running"


class HostProcess:
    """A devhost subprocess serving `app_dir` with state in `state_dir`; a context manager that always cleans up."""

    def __init__(self, app_dir: str | Path, state_dir: str | Path, port: int | None = None,
                 function_key: str | None = None, env: dict[str, str] | None = None,
                 startup_timeout: float = 60.0) -> None:
        self.app_dir = Path(app_dir).resolve()
        self.state_dir = Path(state_dir).resolve()
        self.port = port or free_port()
        self._may_move = port is None  # a port we picked may be taken before the host binds it: pick again
        self.key = function_key or (env or {}).get("DEVHOST_FUNCTION_KEY")
        self.startup_timeout = startup_timeout
        self._extra_env = dict(env or {})
        self._log_path = Path(tempfile.mkdtemp(prefix="devhost-logs-")) / "host.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._closed_logs: str | None = None

    def _env(self) -> dict[str, str]:
        extra = {**self._extra_env}
        inherited = os.environ.get("PYTHONPATH", "")
        extra["PYTHONPATH"] = os.pathsep.join(p for p in (str(FUNCTION_APP_ROOT), inherited) if p)
        if self.key:
            extra["DEVHOST_FUNCTION_KEY"] = self.key
        return child_env(extra, drop=() if self.key else ("DEVHOST_FUNCTION_KEY",))

    def start(self) -> HostProcess:
        """Start the host (again, on the same state dir and port) and wait until it reports Running."""
        if self.running:
            return self
        if self._closed_logs is not None:  # started again after close(): keep the earlier logs
            self._log_path = Path(tempfile.mkdtemp(prefix="devhost-logs-")) / "host.log"
            self._log_path.write_text(self._closed_logs)
            self._closed_logs = None
        atexit.register(self.kill)
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._launch_and_wait()
                break
            except ServerStartError:
                if not (self._may_move and attempt < PORT_ATTEMPTS and ADDRESS_IN_USE in log_tail(self._log_path)):
                    raise
                self.port = free_port()
        self._may_move = False  # restarts keep the port clients already know
        return self

    def _launch_and_wait(self) -> None:
        command = [sys.executable, "-m", "devtools.devhost", "--app-dir", str(self.app_dir), "--port", str(self.port),
                   "--state-dir", str(self.state_dir)]
        self._process = launch(command, self._env(), self._log_path)
        try:
            wait_until_answers(self.url("/admin/host/status"), self._process, self._log_path, self.startup_timeout,
                               accept=reports_running)
        except BaseException:
            self.kill()
            raise

    @property
    def base_url(self) -> str:
        """The host's loopback URL."""
        return f"http://{LOOPBACK}:{self.port}"

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
        if self._process is not None:
            kill_group(self._process)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL; returns the exit code."""
        return None if self._process is None else stop_process(self._process, timeout)

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
