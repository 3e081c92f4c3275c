"""`python -m targets.local.supervisor APP_DIR [--detach]`: keeps one revision of a local app running.

It plays the Container Apps runtime: starts the revision in app.json, restarts it with back-off when it
exits, switches to the new revision on SIGHUP (old one stopped gracefully first; a SIGHUP that finds the
revision unchanged changes nothing), and stops on SIGTERM. An exclusive lock on the app directory makes it the
only supervisor of its app: a second one exits at once.
"""

import argparse
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from targets.local.app_files import AppFiles, SupervisorState

GRACE_SECONDS = 10.0
LOCK_FILE = "supervisor.lock"
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "HF_HOME", "OMP_NUM_THREADS", "PYTHONPATH")


class Supervisor:
    """One app's supervisor loop."""

    def __init__(self, files: AppFiles) -> None:
        self.files = files
        self.child: subprocess.Popen[bytes] | None = None
        self.state = SupervisorState()
        self.reload = True
        self.stopping = False

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        """SIGHUP: switch revision; SIGTERM/SIGINT: stop."""
        if signum == signal.SIGHUP:
            self.reload = True
        else:
            self.stopping = True

    def start_child(self) -> None:
        """Start the revision described in app.json (nothing when none is configured yet)."""
        spec = self.files.read_spec()
        if spec is None or spec.server is None or spec.revision is None:
            return
        env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
        env.update(spec.server.env, API_KEY=self.files.ensure_api_key(), PYTHONUNBUFFERED="1",
                   CONTAINER_APP_REVISION=spec.revision)  # as Container Apps sets it: the server reports it
        self.files.logs_dir.mkdir(parents=True, exist_ok=True)
        with self.files.log_path(spec.revision).open("ab") as log:
            self.child = subprocess.Popen(
                spec.server.argv, cwd=spec.server.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        if self.state.revision != spec.revision:
            self.state = SupervisorState(revision=spec.revision)
        self.state.pid, self.state.status = self.child.pid, "running"
        self.files.write_state(self.state)

    def stop_child(self) -> None:
        """SIGTERM the running revision, SIGKILL it after the grace period."""
        if self.child is None or self.child.poll() is not None:
            return
        self.child.terminate()
        try:
            self.child.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()

    def wait_interruptible(self, seconds: float) -> None:
        """Sleep, waking early for a signal."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (self.stopping or self.reload):
            time.sleep(0.1)

    def step(self) -> None:
        """One turn of the loop: switch revision, or restart a crashed one with back-off."""
        if self.reload:
            self.reload = False
            spec = self.files.read_spec()
            if self.child is None or spec is None or spec.revision != self.state.revision:
                self.stop_child()
                self.start_child()
        elif self.child is not None and (code := self.child.poll()) is not None:
            self.state.status, self.state.last_exit_code = "crashed", code
            self.state.restarts += 1
            self.files.write_state(self.state)
            self.child = None
            self.wait_interruptible(min(2.0**self.state.restarts, 30.0))
            if not (self.stopping or self.reload):
                self.start_child()
        else:
            time.sleep(0.2)

    def run(self) -> None:
        """Loop until SIGTERM, then stop the revision and clean up."""
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.on_signal)
        self.files.pid_path.write_text(str(os.getpid()))
        try:
            while not self.stopping:
                self.step()
        finally:
            self.stop_child()
            self.state.status = "stopped"
            self.files.write_state(self.state)
            self.files.pid_path.unlink(missing_ok=True)


def hold_app_lock(files: AppFiles) -> int | None:
    """Take the app's supervisor lock for this process's lifetime; None when another supervisor holds it."""
    files.dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(files.dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def main() -> None:
    """Parse arguments, optionally detach from the caller, and supervise."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app_dir", type=Path)
    parser.add_argument("--detach", action="store_true", help="fork into a new session and return at once")
    args = parser.parse_args()
    if args.detach and os.fork() > 0:
        os._exit(0)
    files = AppFiles(args.app_dir.resolve())
    if hold_app_lock(files) is None:
        print(f"another supervisor already runs {files.dir.name}", file=sys.stderr)
        sys.exit(0)
    if args.detach:
        os.setsid()
        files.logs_dir.mkdir(parents=True, exist_ok=True)
        log = os.open(files.logs_dir / "supervisor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        for fd in (1, 2):
            os.dup2(log, fd)
    Supervisor(files).run()
    sys.exit(0)


if __name__ == "__main__":
    main()
