"""Running the `ftdeploy` command as a user does: a separate process, its exit status, stdout and stderr."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service_settings import FUNCTION_APP_ROOT

CLI_TIMEOUT_S = 300.0
"""A deploy waits for the tiny model to load; on a busy 2-core machine that can take a while."""


@dataclass(frozen=True)
class CliRun:
    """How one command ended."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as the JSON document --json prints."""
        return json.loads(self.stdout)

    def text(self) -> str:
        """Both streams, for assertions about what a user sees anywhere."""
        return self.stdout + self.stderr


def ftdeploy(*args: str, cwd: Path, env: dict[str, str] | None = None, secrets: tuple[str, ...] = ()) -> CliRun:
    """Run `python -m ftdeploy ARGS` in `cwd`; assert it printed no secret and no stack trace."""
    inherited = os.environ.get("PYTHONPATH", "")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(FUNCTION_APP_ROOT), inherited) if p),
                   **(env or {})}
    for name in ("FTDEPLOY_URL", "FTDEPLOY_KEY", "FTDEPLOY_WEBHOOK_SECRET"):
        if name not in (env or {}):
            environment.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "ftdeploy", *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=CLI_TIMEOUT_S, check=False)
    run = CliRun(done.returncode, done.stdout, done.stderr)
    for secret in secrets:
        assert secret not in run.text(), f"a secret was printed by ftdeploy {' '.join(args)}"
    assert "Traceback" not in run.stderr, run.stderr
    return run
