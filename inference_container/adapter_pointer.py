"""ADAPTER_POINTER: after an in-place adapter swap, a restarted server comes back on the swapped-in version.

The deploy writes the app's record (`/mount/serving/apps/<app>/current.json`: version, revision, ...) once a swap
or promotion succeeded. With ADAPTER_POINTER naming that file, a server of the record's revision (a crash, a
scale-out, a reboot) serves `<serving>/adapters/<version>` instead of ADAPTER_PATH, which still names the version
the revision started with. A server of another revision (a blue-green candidate, a new restart) keeps its own
ADAPTER_PATH; so does any server when the file is missing or unreadable, or the version folder has no adapter.
"""

import json
import logging
import os
from pathlib import Path

from inference_container.settings import Settings

log = logging.getLogger(__name__)


def pointed_adapter(pointer: Path, revision: str | None) -> Path | None:
    """The adapter folder the record at `pointer` names for `revision`, or None."""
    try:
        record = json.loads(pointer.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or revision is None or record.get("revision") != revision:
        return None
    version = record.get("version")
    if not isinstance(version, str) or not version or "/" in version or version.startswith("."):
        return None
    adapter = pointer.parent.parent.parent / "adapters" / version
    return adapter if (adapter / "adapter_config.json").is_file() else None


def follow_adapter_pointer(settings: Settings) -> Settings:
    """`settings` with ADAPTER_PATH replaced by the pointed-to version where ADAPTER_POINTER applies."""
    pointer = os.environ.get("ADAPTER_POINTER")
    adapter = pointed_adapter(Path(pointer), settings.container_app_revision) if pointer else None
    if adapter is None or adapter == settings.adapter_path:
        return settings
    log.warning("ADAPTER_POINTER: serving %s (swapped in for revision %s) instead of ADAPTER_PATH %s",
                adapter.name, settings.container_app_revision, settings.adapter_path)
    return settings.model_copy(update={"adapter_path": adapter})
