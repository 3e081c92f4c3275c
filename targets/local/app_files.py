"""The files that describe one local container app: its spec, secret, supervisor state and logs."""

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from targets.local.atomic_write import atomic_write

CRASH_LOOP_RESTARTS = 3
EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit)\b[^:]*: .+")


class ServerSpec(BaseModel):
    """How to run one revision of the inference server."""

    argv: list[str]
    cwd: str
    env: dict[str, str]

    @property
    def port(self) -> int | None:
        """The private port the server listens on (the supervisor's front forwards the app's port to it)."""
        return int(self.env["PORT"]) if self.env.get("PORT", "").isdigit() else None


class CandidateSpec(BaseModel):
    """A blue-green candidate: a second revision run beside the serving one, with no traffic until promoted."""

    revision: str
    server: ServerSpec


class AppSpec(BaseModel):
    """The local equivalent of the container app resource: the revision that serves, and maybe a candidate.

    Promotion rewrites `revision`/`server` to the candidate's and clears `candidate`: the supervisor, seeing the
    revision it runs as a candidate become the serving one, moves traffic to it instead of restarting.
    """

    name: str
    port: int
    revision: str | None = None
    revision_number: int = 0
    server: ServerSpec | None = None
    candidate: CandidateSpec | None = None
    max_replicas: int = Field(default=2, ge=1, description="1: no candidate can be run; blue-green restarts instead.")


class ServerState(BaseModel):
    """What the supervisor reports about one server process."""

    revision: str | None = None
    pid: int | None = None
    port: int | None = None
    status: str = "starting"
    restarts: int = Field(default=0, description="Unexpected exits of this revision so far.")
    last_exit_code: int | None = None


class SupervisorState(ServerState):
    """The serving revision's state (the fields inherited), the candidate's, and revisions still draining."""

    candidate: ServerState | None = None
    draining: list[str] = Field(default_factory=list)


class AppFiles:
    """Paths and atomic reads/writes of one app directory."""

    def __init__(self, app_dir: Path) -> None:
        self.dir = app_dir
        self.spec_path = app_dir / "app.json"
        self.state_path = app_dir / "state.json"
        self.pid_path = app_dir / "supervisor.pid"
        self.key_path = app_dir / "secrets" / "api_key"
        self.admin_key_path = app_dir / "secrets" / "admin_api_key"
        self.config_path = app_dir / "inference.config.json"
        self.logs_dir = app_dir / "logs"

    def write_json(self, path: Path, payload: dict[str, Any]) -> None:
        """Replace a JSON file atomically."""
        atomic_write(path, (json.dumps(payload, indent=2) + "\n").encode())

    def read_spec(self) -> AppSpec | None:
        """The app spec, or None when the app was never provisioned."""
        return AppSpec.model_validate_json(self.spec_path.read_text()) if self.spec_path.exists() else None

    def write_spec(self, spec: AppSpec) -> None:
        """Replace the app spec."""
        self.write_json(self.spec_path, spec.model_dump(mode="json"))

    def read_state(self) -> SupervisorState:
        """The supervisor's last report (a default one before it wrote any)."""
        try:
            return SupervisorState.model_validate_json(self.state_path.read_text())
        except (FileNotFoundError, ValueError):
            return SupervisorState()

    def write_state(self, state: SupervisorState) -> None:
        """Replace the supervisor's report."""
        self.write_json(self.state_path, state.model_dump(mode="json"))

    def ensure_api_key(self) -> str:
        """The app's API key, created once with owner-only permissions."""
        return self._ensure_secret(self.key_path)

    def ensure_admin_key(self) -> str:
        """The key of the server's admin routes (adapter swap), created once like the API key; never the API key."""
        return self._ensure_secret(self.admin_key_path)

    @staticmethod
    def _ensure_secret(path: Path) -> str:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # created meanwhile by another process
                return path.read_text().strip()
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
        return path.read_text().strip()

    def log_path(self, revision: str) -> Path:
        """Where one revision's output goes."""
        return self.logs_dir / f"{revision}.log"

    def log_lines(self, revision: str) -> list[str]:
        """What a revision printed (the server never prints its key)."""
        path = self.log_path(revision)
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    def crash_report(self, revision: str, tail: int = 15) -> str:
        """The last exception a revision printed, then its last lines."""
        lines = self.log_lines(revision)
        errors = [line for line in lines if EXCEPTION_LINE.match(line)]
        report = f"last error: {errors[-1]}\n" if errors else ""
        return report + "last output:\n" + "\n".join(lines[-tail:])
