"""What every target provides: a file share and a host for the inference container app."""

from typing import Protocol

from payloads.steps import ProvisionOutputs, ReadinessResult, RestartResult
from share_layout.manifest import Manifest


class FileShare(Protocol):
    """The Azure Files share (or a directory laid out like it); paths are share-relative, POSIX style."""

    def ensure_directories(self, paths: tuple[str, ...]) -> None:
        """Create these directories (and parents) if missing."""

    def list_files(self, directory: str) -> Manifest:
        """Every file under `directory` (recursively) with its MD5; empty when the directory is missing."""

    def exists(self, path: str) -> bool:
        """Whether a file or directory exists."""

    def read_bytes(self, path: str) -> bytes:
        """A file's content; FileNotFoundError when missing."""

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a file so readers see the old or the new content, never a partial one."""

    def delete_file(self, path: str) -> None:
        """Remove a file (missing is fine)."""


class AppHost(Protocol):
    """Runs the inference server as a container app with the share mounted."""

    def is_provisioned(self, app_name: str) -> bool:
        """Whether the app exists (provision has created it)."""

    def create_app(self, app_name: str, port: int | None) -> ProvisionOutputs:
        """Create the app (idempotent) and return where it will answer."""

    def restart(self, app_name: str, base_model: str, version: str) -> RestartResult:
        """Start a new revision serving this base model and adapter version."""

    def probe(self, app_name: str, revision: str) -> ReadinessResult:
        """Whether `revision` is the one serving and answers /ready."""


class Target(Protocol):
    """A share plus an app host."""

    @property
    def share(self) -> FileShare:
        """The file share."""

    @property
    def apps(self) -> AppHost:
        """The container app host."""
