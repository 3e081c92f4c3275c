"""Drive the function app as a user would: the `ftdeploy` command line, one JSON result per command."""

import json
import os
import subprocess
import sys
from typing import Any

from rich.console import Console

from devtools.devhost.process import HostProcess
from service_settings import FUNCTION_APP_ROOT


class CommandFailed(RuntimeError):
    """ftdeploy ended with a non-zero exit status (its error went to stderr)."""


class Ftdeploy:
    """`python -m ftdeploy ... --json` against one host; the key travels in the environment, never in argv."""

    def __init__(self, host: HostProcess, console: Console) -> None:
        self.host = host
        self.console = console

    def __call__(self, *args: str) -> dict[str, Any]:
        """Run one command; its progress shows on stderr, its JSON document is returned."""
        self.console.print(f"[bold]$ ftdeploy {' '.join(args)}[/bold]")
        env = {**os.environ, "FTDEPLOY_URL": self.host.base_url, "FTDEPLOY_KEY": self.host.key or ""}
        done = subprocess.run([sys.executable, "-m", "ftdeploy", *args, "--json"], cwd=FUNCTION_APP_ROOT, env=env,
                              stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            raise CommandFailed(f"ftdeploy {args[0]} exited with {done.returncode} (its error is above)")
        result: dict[str, Any] = json.loads(done.stdout)
        return result
