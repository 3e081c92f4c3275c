"""Host configuration: command line, host.json and local.settings.json."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class HostConfig:
    """Everything the host needs to know at start-up."""

    app_dir: Path
    port: int
    state_dir: Path
    function_key: str | None
    route_prefix: str
    hub_name: str
    replace_live_instances: bool = False
    grace_seconds: float = 5.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the `python -m devtools.devhost` command line."""
    parser = argparse.ArgumentParser(prog="python -m devtools.devhost", description="Local Azure Functions host")
    parser.add_argument("--app-dir", default=".", help="folder holding function_app.py")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--state-dir", default=".devhost", help="where instances and history persist")
    parser.add_argument("--function-key", default=None, help="also env DEVHOST_FUNCTION_KEY")
    return parser.parse_args(argv)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    return data if isinstance(data, dict) else {}


def load_local_settings(app_dir: Path) -> None:
    """Copy local.settings.json "Values" into os.environ; variables already set win."""
    values = _read_json(app_dir / "local.settings.json").get("Values", {})
    for name, value in values.items():
        os.environ.setdefault(str(name), "" if value is None else str(value))


OVERRIDABLE_STATES = ("NonRunningStates", "AnyState")


def replaces_live_instances(durable_task: dict[str, Any]) -> bool:
    """durableTask.overridableExistingInstanceStates: whether starting a live instance's id replaces it.

    The extension's default, NonRunningStates, refuses (only a completed, failed or terminated one is replaced);
    AnyState replaces whatever is there. Anything else stops the host at start-up, as a bad host.json should.
    """
    value = str(durable_task.get("overridableExistingInstanceStates", OVERRIDABLE_STATES[0]))
    matches = [state for state in OVERRIDABLE_STATES if state.lower() == value.lower()]
    if not matches:
        raise SystemExit(f"host.json: durableTask.overridableExistingInstanceStates {value!r} is not one of "
                         f"{', '.join(OVERRIDABLE_STATES)}")
    return matches[0] == "AnyState"


def build_config(args: argparse.Namespace) -> HostConfig:
    """Combine the command line with host.json into a HostConfig."""
    app_dir = Path(args.app_dir).resolve()
    extensions = _read_json(app_dir / "host.json").get("extensions", {})
    prefix = str(extensions.get("http", {}).get("routePrefix", "api")).strip("/")
    durable_task = extensions.get("durableTask", {})
    hub = str(durable_task.get("hubName", "TestHubName"))
    key = args.function_key or os.environ.get("DEVHOST_FUNCTION_KEY") or None
    state_dir = Path(args.state_dir)
    if not state_dir.is_absolute():
        state_dir = (Path.cwd() / state_dir).resolve()
    return HostConfig(app_dir, args.port, state_dir, key, prefix, hub, replaces_live_instances(durable_task))
