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


class AppSpec(BaseModel):
    """The local equivalent of the container app resource."""

    name: str
    port: int
    revision: str | None = None
    revision_number: int = 0
    server: ServerSpec | None = None


class SupervisorState(BaseModel):
    """What the supervisor reports about the revision it runs."""

    revision: str | None = None
    pid: int | None = None
    status: str = "starting"
    restarts: int = Field(default=0, description="Unexpected exits of this revision so far.")
    last_exit_code: int | None = None


class AppFiles:
    """Paths and atomic reads/writes of one app directory."""

    def __init__(self, app_dir: Path) -> None:
        self.dir = app_dir
        self.spec_path = app_dir / "app.json"
        self.state_path = app_dir / "state.json"
        self.pid_path = app_dir / "supervisor.pid"
        self.key_path = app_dir / "secrets" / "api_key"
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
        if not self.key_path.exists():
            self.key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
        return self.key_path.read_text().strip()

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
