"""`make demo-azure`: provision and deploy on the azure target against the simulators, then a table of requests."""

import argparse
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

from rich.console import Console

from devtools.demo_azure.flow import run_demo
from devtools.demo_azure.ftdeploy_cli import CommandFailed
from devtools.demo_azure.report import traffic_table


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so everything started is stopped."""
    raise SystemExit(128 + signum)


def main() -> int:
    """Run the demo in a temporary directory (or --root), print the table; the exit status says how it ended."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, help="scratch directory, kept after (default: a temporary one, removed)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    console = Console()
    if not console.is_terminal:  # piped or logged: wide enough for the table, rather than 80 columns
        console = Console(width=160)
    with tempfile.TemporaryDirectory(prefix="demo-azure-") as scratch:
        root = (args.root or Path(scratch)).resolve()
        console.print(f"Scratch directory (CA, share, host state, app logs): {root}")
        try:
            result = run_demo(root, console)
        except CommandFailed as error:
            console.print(f"[red]{error}[/red]")
            return 1
        except KeyboardInterrupt:
            console.print("[yellow]Interrupted: everything the demo started was stopped[/yellow]")
            return 130
    console.print(traffic_table(result.steps))
    if result.left_running:
        console.print(f"[red]Still running: {result.left_running}[/red]")
        return 1
    console.print(f"Stopped all {len(result.started)} processes the demo started. "
                  f"Total: [bold]{result.seconds:.1f} s[/bold]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
