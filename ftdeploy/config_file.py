"""infra/inference.config.json: what provisioning produced, in the AI Toolkit's keys; deploy reads the app from it."""

import json
from pathlib import Path
from typing import Any

from ftdeploy.errors import CliError, Exit

DEFAULT_PATH = Path("infra") / "inference.config.json"
KEYS = ("SUBSCRIPTION_ID", "RESOURCE_GROUP_NAME", "STORAGE_ACCOUNT_NAME", "FILE_SHARE_NAME", "ACA_APP_NAME",
        "ACA_APP_ENDPOINT")
LOCAL_SUBSCRIPTION = "local"
"""What the local target writes as SUBSCRIPTION_ID (no Azure subscription): such a file names a local app."""


def read_config(path: Path) -> dict[str, Any] | None:
    """The file's JSON object, or None when there is no file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read {path}: {error}", Exit.USAGE) from None
    if not isinstance(data, dict):
        raise CliError(f"{path} is not a JSON object with the keys {', '.join(KEYS)}", Exit.USAGE)
    return data


def is_filled_in(value: Any) -> bool:
    """A real value, not empty and not the template's '<...>' placeholder."""
    return isinstance(value, str) and bool(value.strip()) and not value.lstrip().startswith("<")


def app_of(config: dict[str, Any], path: Path) -> str:
    """The container app the file names (ACA_APP_NAME)."""
    name = config.get("ACA_APP_NAME")
    if not is_filled_in(name):
        raise CliError(f"{path} names no app (ACA_APP_NAME is not filled in): run `ftdeploy provision` first, "
                       "or pass --app", Exit.USAGE)
    return str(name)


def target_of(config: dict[str, Any]) -> str:
    """'local' for a file the local target wrote, else 'azure'."""
    return "local" if config.get("SUBSCRIPTION_ID") == LOCAL_SUBSCRIPTION else "azure"


def write_config(path: Path, outputs: Any) -> dict[str, str]:
    """Write the provision outputs' six keys to `path` (other keys already there are kept); return what was written."""
    if not isinstance(outputs, dict) or any(key not in outputs for key in KEYS):
        raise CliError(f"the provision output lacks the keys of {path.name} ({', '.join(KEYS)}): {outputs!r}",
                       Exit.FAILED)
    values = {key: str(outputs[key]) for key in KEYS}
    existing = read_config(path) if path.exists() else None
    merged = {**(existing or {}), **values}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return values
