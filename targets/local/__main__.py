"""`python -m targets.local stop [APPS_DIR]`: stop every local app (the demo and `make stop` use it)."""

import argparse
from pathlib import Path

from service_settings import get_settings
from targets.local.process_control import stop_all


def main() -> None:
    """Stop the apps and say which were running."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["stop"])
    parser.add_argument("apps_dir", type=Path, nargs="?", default=None)
    args = parser.parse_args()
    stopped = stop_all(args.apps_dir or get_settings().apps_dir)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


if __name__ == "__main__":
    main()
