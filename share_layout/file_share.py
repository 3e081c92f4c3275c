"""The file share's interface: the Azure Files share, or a directory laid out like it."""

from typing import Protocol

from share_layout.manifest import Manifest


class FileShare(Protocol):
    """The Azure Files share (or a directory laid out like it); paths are share-relative, POSIX style."""

    def ensure_directories(self, paths: tuple[str, ...]) -> None:
        """Create these directories (and parents) if missing."""

    def list_files(self, directory: str) -> Manifest:
        """Every file under `directory` (recursively) with its MD5; empty when the directory is missing.

        ValueError, before any file is read, when one of them resolves outside the share (a symbolic link).
        """

    def refuse_links_out(self, directory: str) -> None:
        """ValueError when `directory` or any file under it resolves outside the share; reads no file's content."""

    def exists(self, path: str) -> bool:
        """Whether a file or directory exists."""

    def read_bytes(self, path: str) -> bytes:
        """A file's content; FileNotFoundError when missing."""

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a file so readers see the old or the new content, never a partial one."""

    def copy_files(self, source: str, destination: str, files: Manifest) -> None:
        """Copy each of `files` (paths under `source`, with their MD5s) to the same path under `destination`.

        Inside the share (Azure Files: Copy File, so no byte passes through this process); returns once every copy
        is complete, each with the listed MD5 stored. OSError when a copy fails or its content is not the listed
        one, TimeoutError when one does not finish in time; copies already made are left for the caller to remove.
        """

    def delete_file(self, path: str) -> None:
        """Remove a file (missing is fine)."""

    def rename_directory(self, source: str, destination: str) -> None:
        """Move a directory to `destination`, which does not exist yet, in one step (Azure Files: Rename Directory)."""

    def delete_directory(self, path: str) -> None:
        """Remove a directory and everything under it (missing is fine)."""
