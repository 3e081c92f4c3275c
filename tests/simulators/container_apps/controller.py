"""The simulated Container Apps runtime: keeps each app's active revisions running as local processes.

A background thread reconciles every ~0.1 s. Each app's ingress (ingress.py) listens on the app's port from the
first reconcile on and forwards to the revisions with traffic; each active revision runs one process on its own port
(Single mode: one; Multiple: every active one). In Single mode a new revision deactivates the old one at once, so
its process is stopped before the new one is ready (Azure keeps the old one serving until then). A deactivated
revision's process is stopped with SIGTERM (the server drains in-flight requests). A restart of a revision (a new
generation) stops and starts its process. A revision is Provisioned, Running and Healthy once its readiness probe
(the container's Readiness, else Startup, httpGet probe; a TCP connect without one) answers 200-399. A process that
exits is restarted with a short back-off (Azure's CrashLoopBackOff is longer); after CRASH_LOOP_RESTARTS exits in a
row without becoming ready in between, the revision is Failed (its provisioningState too, if it was never ready)
with a provisioningError naming the exit code (128 + the signal for a process a signal ended, as a container runtime
reports it), and is left stopped.
"""

import os
import socket
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

from devtools.child_process import launch, stop_process
from tests.simulators.container_apps.container_process import (
    ContainerSpecError,
    WorkingDirectoryMissing,
    container_of,
    launch_spec,
    mounts,
)
from tests.simulators.container_apps.ingress import Ingress
from tests.simulators.container_apps.resources import AppRecord, ReplicaView, RevisionRecord

CRASH_LOOP_RESTARTS = 3
PROBE_TIMEOUT_S = 2.0
STOP_GRACE_S = 10.0


@dataclass
class Replica:
    """The process behind one revision's replica (None while waiting to be restarted after an exit)."""

    revision: str
    generation: int
    process: Popen[bytes] | None = None
    failures: int = 0
    next_start: float = 0.0
    ready: bool = False


class Controller:
    """Starts, watches, restarts and stops the replicas of the apps `apps()` returns, under `lock`."""

    def __init__(self, lock: threading.RLock, apps: Callable[[], list[AppRecord]],
                 storages: Callable[[AppRecord], dict[str, Path]], runtime_dir: Path, interval_s: float = 0.1) -> None:
        self.lock = lock
        self.apps = apps
        self.storages = storages
        self.logs_dir = runtime_dir / "logs"
        self.interval_s = interval_s
        self.errors: list[str] = []
        self._replicas: dict[str, Replica] = {}
        self._ingresses: dict[str, Ingress] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="container-apps-runtime", daemon=True)

    def start(self) -> None:
        """Start reconciling."""
        self._thread.start()

    def close(self) -> None:
        """Stop reconciling, then stop every process (nothing is left running)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)
        for ingress in self._ingresses.values():
            ingress.close()
        self._ingresses.clear()
        for replica in self._replicas.values():
            if replica.process is not None:
                stop_process(replica.process, STOP_GRACE_S)
        self._replicas.clear()

    def pids(self) -> list[int]:
        """The processes running now (one per active revision at most)."""
        return [replica.process.pid for replica in list(self._replicas.values()) if replica.process is not None]

    def log_path(self, revision: str) -> Path:
        """Where a revision's processes write their output (what Log Analytics would show)."""
        return self.logs_dir / f"{revision}.log"

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            for app in self.apps():
                try:
                    self._reconcile(app)
                except Exception:  # a simulator bug: keep it for the test to see, and go on
                    self.errors.append(traceback.format_exc())

    def _choose(self, app: AppRecord) -> int | None:
        with self.lock:
            return app.backend()

    def _revision_backend(self, revision: RevisionRecord) -> Callable[[], int | None]:
        """The revision-specific URL's choice: the revision's own process, while it is active."""
        def choose() -> int | None:
            with self.lock:
                return revision.backend_port if revision.active else None
        return choose

    def _rewrite(self, app: AppRecord, body: bytes) -> bytes:
        """Container paths under the app's volume mounts in a request body, as the backing directories' paths."""
        try:
            container = container_of(app.template)
            mounted = mounts(container, app.template, self.storages(app))
        except ContainerSpecError:
            return body
        for mount_path, backing in mounted.items():
            body = body.replace(f'"{mount_path}/'.encode(), f'"{backing}/'.encode())
        return body

    def _reconcile(self, app: AppRecord) -> None:
        if app.id not in self._ingresses:
            self._ingresses[app.id] = Ingress(app.port, lambda: self._choose(app), lambda b: self._rewrite(app, b))
        with self.lock:
            wanted = {f"{app.id}/{revision.name}": (revision, revision.generation) for revision in app.running()
                      if revision.running_state != "Failed"}
            for revision in app.revisions.values():
                if f"{app.id}/{revision.name}" not in self._ingresses:
                    self._ingresses[f"{app.id}/{revision.name}"] = Ingress(
                        revision.port, self._revision_backend(revision), lambda b: self._rewrite(app, b))
        for key, replica in list(self._replicas.items()):
            if key.startswith(f"{app.id}/") and (key not in wanted or wanted[key][1] != replica.generation):
                if replica.process is not None:
                    stop_process(replica.process, STOP_GRACE_S)
                del self._replicas[key]
        for key, (target, generation) in wanted.items():
            if key not in self._replicas:
                self._replicas[key] = Replica(target.name, generation)
            self._step(app, target, self._replicas[key])

    def _step(self, app: AppRecord, target: RevisionRecord, replica: Replica) -> None:
        if replica.process is None:
            if time.monotonic() >= replica.next_start:
                self._launch(app, target, replica)
        elif (code := replica.process.poll()) is not None:
            self._exited(target, replica, code if code >= 0 else 128 - code)  # killed by a signal: 128 + signum
        elif not replica.ready and self._answers(app, target):
            with self.lock:
                self._ready(app, target, replica)

    def _launch(self, app: AppRecord, revision: RevisionRecord, replica: Replica) -> None:
        with self.lock:
            view = revision.replica or ReplicaView(f"{revision.name}-{uuid.uuid4().hex[:10]}")
            revision.replica = view
            template, secrets, storages = revision.template, app.secrets(), self.storages(app)
        try:
            spec = launch_spec(app.name, revision.name, view.name, template, secrets, storages, revision.backend_port,
                               dict(os.environ))
        except WorkingDirectoryMissing as error:
            with self.lock:
                self._fail(revision, f"The container cannot start: {error}", provisioned=True)
            return
        except ContainerSpecError as error:
            with self.lock:
                self._fail(revision, f"The container cannot start: {error}")
            return
        replica.process = launch(spec.argv, spec.env, self.log_path(revision.name), cwd=spec.cwd)
        with self.lock:
            view.started, view.state, view.details = True, "Running", "Container is running"

    def _exited(self, revision: RevisionRecord, replica: Replica, code: int) -> None:
        replica.process, replica.ready = None, False
        replica.failures += 1
        replica.next_start = time.monotonic() + min(0.5 * 2 ** (replica.failures - 1), 4.0)
        with self.lock:
            view = revision.replica or ReplicaView(revision.name)
            view.ready, view.started, view.restart_count = False, False, view.restart_count + 1
            view.state, view.details = "Waiting", f"CrashLoopBackOff: the container exited with code {code}"
            revision.health_state = "Unhealthy"
            revision.running_state = "Degraded" if revision.ever_ready else "Processing"
            if replica.failures >= CRASH_LOOP_RESTARTS:
                name = container_of(revision.template).get("name")
                self._fail(revision, f"Container '{name}' terminated with exit code {code} "
                                     f"{replica.failures} times in a row without becoming ready (CrashLoopBackOff)")

    @staticmethod
    def _fail(revision: RevisionRecord, message: str, provisioned: bool = False) -> None:
        """Running Failed; provisioning Failed too for a revision never ready, unless the platform provisioned it
        and only the container's command fails (the share holds no code yet: a restart after a sync starts it)."""
        revision.running_state, revision.health_state, revision.provisioning_error = "Failed", "Unhealthy", message
        if provisioned:
            revision.provisioning_state = "Provisioned"
        elif not revision.ever_ready:
            revision.provisioning_state = "Failed"

    @staticmethod
    def _ready(app: AppRecord, revision: RevisionRecord, replica: Replica) -> None:
        replica.ready, replica.failures = True, 0
        revision.provisioning_state, revision.running_state, revision.health_state = "Provisioned", "Running", "Healthy"
        revision.ever_ready, revision.provisioning_error = True, None
        if revision.replica is not None:
            revision.replica.ready, revision.replica.details = True, "Container is ready"
        if app.latest_revision == revision.name:
            app.latest_ready_revision = revision.name

    @staticmethod
    def _answers(app: AppRecord, revision: RevisionRecord) -> bool:
        """The container's readiness probe: its httpGet path answers 200-399 (a TCP connect without a probe)."""
        probes = {probe.get("type"): probe for probe in container_of(revision.template).get("probes") or []}
        probe = probes.get("Readiness") or probes.get("Startup")
        if probe is None or "httpGet" not in probe:
            try:
                socket.create_connection(("127.0.0.1", revision.backend_port), timeout=PROBE_TIMEOUT_S).close()
            except OSError:
                return False
            return True
        url = f"http://127.0.0.1:{revision.backend_port}{probe['httpGet'].get('path', '/')}"
        try:
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as reply:
                return 200 <= int(reply.status) < 400
        except (urllib.error.URLError, OSError):
            return False
