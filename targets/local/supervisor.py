"""`python -m targets.local.supervisor APP_DIR [--detach]`: runs a local app the way Container Apps runs revisions.

It owns the app's public port through a front (targets.local.front_proxy) and runs the servers on private
loopback ports. app.json is the desired state, state.json what runs; SIGHUP makes it read app.json again:
- a new `revision` (not the candidate): restart in place: the old server stops gracefully first, then the new one
  starts (the front answers 503 meanwhile);
- a `candidate`: start it beside the serving server, with no traffic (a candidate that exits is not restarted:
  it failed);
- the candidate's revision becoming `revision` (promotion): the front sends every new request to it at once;
  the old server drains: it is stopped once its forwarded requests ended, or after DRAIN_SECONDS;
- `candidate` cleared (discard): the candidate stops; the serving server is untouched.
The serving server is restarted with back-off when it exits; SIGTERM stops everything. An exclusive lock on the
app directory makes it the only supervisor of its app: a second one exits at once.
"""

import argparse
import fcntl
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from targets.local.app_files import AppFiles, AppSpec, ServerSpec, SupervisorState
from targets.local.front_proxy import FrontProxy
from targets.local.ports import free_port
from targets.local.server_process import ServerProcess

LOCK_FILE = "supervisor.lock"
DRAIN_SECONDS = 60.0
"""How long a promoted-away server may keep finishing its requests before it is stopped anyway."""
TICK_SECONDS = 0.1


class Supervisor:
    """One app's supervisor loop."""

    def __init__(self, files: AppFiles) -> None:
        self.files = files
        self.front: FrontProxy | None = None
        self.active: ServerProcess | None = None
        self.candidate: ServerProcess | None = None
        self.draining: list[tuple[ServerProcess, float]] = []
        self.restart_at: float | None = None
        self.reported = ""
        self.reload = True
        self.stopping = False

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        """SIGHUP: read app.json again; SIGTERM/SIGINT: stop."""
        if signum == signal.SIGHUP:
            self.reload = True
        else:
            self.stopping = True

    def ensure_front(self, spec: AppSpec) -> None:
        """Listen on the app's public port (again, if provisioning changed it)."""
        if self.front is not None and self.front.port == spec.port:
            return
        if self.front is not None:
            self.front.stop()
            self.front = None
        try:
            self.front = FrontProxy(spec.port)
        except OSError as error:
            print(f"cannot listen on port {spec.port}: {error}; retrying on the next SIGHUP", file=sys.stderr)
            return
        self.front.start()
        self.front.switch(self.active.port if self.active else None)

    def server(self, spec: AppSpec, revision: str, server: ServerSpec) -> ServerProcess:
        """A server process for `revision` on its private port (a free one if the spec names none or the app's)."""
        port = server.port if server.port not in (None, spec.port) else free_port()
        return ServerProcess(self.files, revision, server, port or free_port())

    def apply_spec(self) -> None:
        """Make what runs match app.json (see the module docstring)."""
        spec = self.files.read_spec()
        if spec is None:
            return
        self.ensure_front(spec)
        if self.candidate is not None and spec.revision == self.candidate.revision:
            self.promote()
        elif self.candidate is not None and (spec.candidate is None or spec.candidate.revision
                                             != self.candidate.revision):
            self.retire(self.candidate, 0.0)
            self.candidate = None
        wanted = spec.candidate
        if wanted is not None and self.candidate is None and wanted.revision != spec.revision:
            self.candidate = self.server(spec, wanted.revision, wanted.server)
            self.candidate.start()
        if spec.server is not None and spec.revision is not None and (
                self.active is None or self.active.revision != spec.revision):
            self.restart_in_place(self.server(spec, spec.revision, spec.server))

    def restart_in_place(self, new: ServerProcess) -> None:
        """Stop the serving server, then start `new` and send traffic to it."""
        if self.active is not None:
            self.active.stop()
        self.active, self.restart_at = new, None
        new.start()
        if self.front is not None:
            self.front.switch(new.port)

    def promote(self) -> None:
        """Send every new request to the candidate; the previous server drains."""
        assert self.candidate is not None
        new, self.candidate = self.candidate, None
        if self.front is not None:
            self.front.switch(new.port)
        if self.active is not None:
            self.retire(self.active, DRAIN_SECONDS)
        self.active, self.restart_at = new, None

    def retire(self, server: ServerProcess, drain_seconds: float) -> None:
        """Stop `server` once no forwarded request is left on it, or after `drain_seconds` at most."""
        self.draining.append((server, time.monotonic() + drain_seconds))

    def watch(self) -> None:
        """Restart a crashed serving server with back-off, note a crashed candidate, stop drained servers."""
        now = time.monotonic()
        if self.active is not None and (code := self.active.exited()) is not None:
            self.active.record_crash(code)
            self.restart_at = now + min(2.0**self.active.state.restarts, 30.0)
        if self.active is not None and self.restart_at is not None and now >= self.restart_at:
            self.restart_at = None
            self.active.start()
        if self.candidate is not None and (code := self.candidate.exited()) is not None:
            self.candidate.record_crash(code)  # not restarted: a candidate that exits has failed
        still: list[tuple[ServerProcess, float]] = []
        for server, deadline in self.draining:
            idle = self.front is None or self.front.busy(server.port) == 0
            if idle or now >= deadline:
                server.request_stop()
            if not server.reap():
                still.append((server, deadline))
        self.draining = still

    def report(self) -> None:
        """Write state.json when what runs changed."""
        state = SupervisorState(**(self.active.state.model_dump() if self.active else {}))
        state.candidate = self.candidate.state.model_copy() if self.candidate else None
        state.draining = [server.revision for server, _ in self.draining]
        text = state.model_dump_json()
        if text != self.reported:
            self.files.write_state(state)
            self.reported = text

    def run(self) -> None:
        """Loop until SIGTERM, then stop every server and the front."""
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.on_signal)
        self.files.pid_path.write_text(str(os.getpid()))
        try:
            while not self.stopping:
                if self.reload:
                    self.reload = False
                    self.apply_spec()
                self.watch()
                self.report()
                time.sleep(TICK_SECONDS)
        finally:
            self.shut_down()

    def shut_down(self) -> None:
        """Stop the servers (candidate and drained ones first) and the front; report the app stopped."""
        for server in [*(server for server, _ in self.draining), *([self.candidate] if self.candidate else [])]:
            server.stop(0.0)
        if self.active is not None:
            self.active.stop()
        if self.front is not None:
            self.front.stop()
        state = SupervisorState(**(self.active.state.model_dump() if self.active else {}))
        state.status = "stopped"
        self.files.write_state(state)
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
