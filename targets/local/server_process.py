"""One inference-server process of a local app: started from a revision's spec, stopped gracefully or not."""

import os
import subprocess
import time

from targets.local.app_files import AppFiles, ServerSpec, ServerState

GRACE_SECONDS = 10.0
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "HF_HOME", "OMP_NUM_THREADS", "PYTHONPATH")


class ServerProcess:
    """A revision's server on its private port, and what the supervisor reports about it."""

    def __init__(self, files: AppFiles, revision: str, server: ServerSpec, port: int) -> None:
        self.files, self.revision, self.server, self.port = files, revision, server, port
        self.child: subprocess.Popen[bytes] | None = None
        self.state = ServerState(revision=revision, port=port)
        self.stop_deadline: float | None = None

    def start(self) -> None:
        """Start the server with the revision's environment, the app's keys and its private port."""
        env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
        env.update(self.server.env, API_KEY=self.files.ensure_api_key(), ADMIN_API_KEY=self.files.ensure_admin_key(),
                   PORT=str(self.port), PYTHONUNBUFFERED="1",
                   CONTAINER_APP_REVISION=self.revision)  # as Container Apps sets it: the server reports it
        self.files.logs_dir.mkdir(parents=True, exist_ok=True)
        with self.files.log_path(self.revision).open("ab") as log:
            self.child = subprocess.Popen(self.server.argv, cwd=self.server.cwd, env=env, stdout=log,
                                          stderr=subprocess.STDOUT)
        self.state.pid, self.state.status = self.child.pid, "running"

    def exited(self) -> int | None:
        """The exit code once the process ended unexpectedly or not (None while it runs or before it started)."""
        return None if self.child is None else self.child.poll()

    def record_crash(self, code: int) -> None:
        """Count an unexpected exit."""
        self.state.status, self.state.last_exit_code = "crashed", code
        self.state.restarts += 1
        self.child = None

    def request_stop(self, grace: float = GRACE_SECONDS) -> None:
        """SIGTERM (the server finishes what it serves), to be SIGKILLed by `reap` after `grace` seconds."""
        if self.child is not None and self.child.poll() is None and self.stop_deadline is None:
            self.child.terminate()
            self.stop_deadline = time.monotonic() + grace

    def reap(self) -> bool:
        """Whether a stop asked for has ended (SIGKILL once its grace is over)."""
        if self.child is None or self.child.poll() is not None:
            return True
        if self.stop_deadline is not None and time.monotonic() >= self.stop_deadline:
            self.child.kill()
            self.child.wait()
            return True
        return False

    def stop(self, grace: float = GRACE_SECONDS) -> None:
        """Stop now and wait: SIGTERM, SIGKILL after the grace period."""
        self.request_stop(grace)
        while not self.reap():
            time.sleep(0.05)
        self.state.status = "stopped"
