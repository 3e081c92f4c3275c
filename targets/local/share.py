"""A directory laid out exactly like the Azure Files share."""

import os
import tempfile
from pathlib import Path

from share_layout.manifest import Manifest, manifest_of_directory


class LocalShare:
    """File share operations on a local directory; paths are share-relative."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, relative: str) -> Path:
        """Absolute path of a share-relative path, refusing anything that escapes the share."""
        resolved = (self.root / relative).resolve()
        if resolved != self.root.resolve() and self.root.resolve() not in resolved.parents:
            raise ValueError(f"path {relative!r} is outside the share")
        return resolved

    def ensure_directories(self, paths: tuple[str, ...]) -> None:
        """Create these directories (and parents) if missing."""
        for relative in paths:
            self.path(relative).mkdir(parents=True, exist_ok=True)

    def list_files(self, directory: str) -> Manifest:
        """Every file under `directory` with its MD5; empty when missing."""
        root = self.path(directory)
        return manifest_of_directory(root) if root.is_dir() else {}

    def exists(self, path: str) -> bool:
        """Whether a file or directory exists."""
        return self.path(path).exists()

    def read_bytes(self, path: str) -> bytes:
        """A file's content."""
        return self.path(path).read_bytes()

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write through a temporary file and rename, so no reader sees a partial file."""
        target = self.path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete_file(self, path: str) -> None:
        """Remove a file (missing is fine)."""
        self.path(path).unlink(missing_ok=True)
