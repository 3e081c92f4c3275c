"""A directory laid out exactly like the Azure Files share."""

import shutil
from pathlib import Path

from share_layout import paths
from share_layout.manifest import Manifest, iter_source_files, manifest_of_directory, md5_bytes
from targets.local.atomic_write import atomic_write


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

    def refuse_links_out(self, directory: str) -> None:
        """ValueError when `directory` or a file under it is a symbolic link leading out of the share."""
        root = self.path(directory)
        if root.is_dir():
            share_root = self.root.resolve()
            for file in iter_source_files(root):
                self.path(str(file.relative_to(share_root)))

    def list_files(self, directory: str) -> Manifest:
        """Every file under `directory` with its MD5; empty when missing; ValueError if one resolves outside."""
        self.refuse_links_out(directory)  # before any file is read
        root = self.path(directory)
        return manifest_of_directory(root) if root.is_dir() else {}

    def exists(self, path: str) -> bool:
        """Whether a file or directory exists."""
        return self.path(path).exists()

    def read_bytes(self, path: str) -> bytes:
        """A file's content."""
        return self.path(path).read_bytes()

    def write_bytes(self, path: str, data: bytes) -> None:
        """Replace a file atomically: no reader sees a partial file."""
        atomic_write(self.path(path), data)

    def copy_files(self, source: str, destination: str, files: Manifest) -> None:
        """Copy each listed file under `source` to the same path under `destination`, each replaced atomically.

        OSError when a file's content is no longer the listed one (it changed since it was listed).
        """
        for relative in sorted(files):
            origin = paths.join(source, relative)
            data = self.read_bytes(origin)
            if md5_bytes(data) != files[relative]:
                raise OSError(f"{origin} changed since it was listed; copy it again")
            self.write_bytes(paths.join(destination, relative), data)

    def delete_file(self, path: str) -> None:
        """Remove a file (missing is fine)."""
        self.path(path).unlink(missing_ok=True)

    def rename_directory(self, source: str, destination: str) -> None:
        """Move a directory to `destination`, which does not exist yet, in one rename."""
        target = self.path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path(source).rename(target)

    def delete_directory(self, path: str) -> None:
        """Remove a directory and everything under it (missing is fine); a symbolic link is removed, not followed."""
        self.path(path)  # refuses a path outside the share
        place = self.root / path
        if place.is_symlink():
            place.unlink()
        else:
            shutil.rmtree(place, ignore_errors=True)
