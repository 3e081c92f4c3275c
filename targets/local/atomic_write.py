"""Replacing a local file so readers see the old or the new content, never a partial one."""

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644
"""Mode of files written here (mkstemp alone would leave 0600): what a copied share file gets by default."""


def atomic_write(target: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write `data` to a temporary file beside `target`, flush it to disk, set `mode`, then rename it over."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
