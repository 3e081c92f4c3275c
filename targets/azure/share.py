"""The Azure Files share behind the FileShare protocol: OAuth (backup intent), REST, atomic replacement by rename.

Writes: Azure Files shows a file while it is being written (Create File, then Put Range per 4 MiB), so each write goes
to a temporary name beside the target, `.<name>.<random>.tmp` (as the local share does), and Rename File replaces the
target in one step: readers see the old or the new file, never a partial one. The file's MD5 is stored as its
Content-MD5 at creation (Azure Files computes none), and each request body carries a transactional Content-MD5 that
the service checks. A file up to 4 MiB takes 2 requests (Create File with its data, Rename File); a larger one
1 + ceil(size / 4 MiB) + 1. A rename retried by the SDK after its reply was lost finds no source: the target's MD5
tells whether it landed. Missing parent directories are created top-down (Files has no recursive create), and the
directories known to exist (created, listed or found) are remembered for the life of the object. Copies between
share paths (an adapter snapshot) use Copy File, inside the service: no byte comes down or goes up (file_copy).
"""

import contextlib
import hashlib
import logging
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.fileshare import ContentSettings, ShareClient, ShareFileClient, StorageErrorCode

from service_settings import ServiceSettings
from share_layout.manifest import Manifest
from targets.azure.clients import RANGE_BYTES, share_client
from targets.azure.file_copy import CopyWait, copy_file
from targets.azure.listing import error_code, manifest, walk
from targets.azure.share_paths import ancestry, is_within, join, share_path, split

_LOGGER = logging.getLogger(__name__)


class AzureFileShare:
    """File share operations on an Azure Files share; paths are share-relative."""

    def __init__(self, client: ShareClient, max_concurrency: int = 8, copy_wait: CopyWait | None = None) -> None:
        self._client = client
        self._concurrency = max_concurrency
        self._copy_wait = copy_wait or CopyWait()
        self._known_directories: set[str] = {""}

    def ensure_directories(self, paths: tuple[str, ...]) -> None:
        """Create these directories (and parents) if missing."""
        for path in paths:
            self._ensure_directory(share_path(path))

    def list_files(self, directory: str) -> Manifest:
        """Every file under `directory` with its MD5; empty when missing."""
        root = share_path(directory)
        with self._pool() as pool:
            files, directories = walk(self._client, root, pool)
            if directories:  # `root` exists, so do the directories above it
                self._known_directories.update([*ancestry(root), *directories])
            return manifest(self._client, root, files, pool)

    def refuse_links_out(self, directory: str) -> None:
        """Only the path itself can lead out: the REST API names items inside the share and follows no link."""
        share_path(directory)

    def exists(self, path: str) -> bool:
        """Whether a file or directory exists (one listing of its parent, filtered by name)."""
        target = share_path(path)
        if not target:
            return bool(self._client.get_directory_client("").exists())
        parent, name = split(target)
        listing = self._client.get_directory_client(parent).list_directories_and_files(name_starts_with=name)
        try:
            return any(item["name"] == name for item in listing)
        except ResourceNotFoundError:
            return False

    def read_bytes(self, path: str) -> bytes:
        """A file's content (ranged GETs in parallel); FileNotFoundError when missing."""
        client = self._client.get_file_client(share_path(path))
        try:
            return client.download_file(max_concurrency=self._concurrency).readall()
        except ResourceNotFoundError as error:
            raise FileNotFoundError(f"{path} is not on the file share") from error

    def write_bytes(self, path: str, data: bytes) -> None:
        """Replace a file atomically: no reader sees a partial file."""
        target = share_path(path)
        self._ensure_directory(split(target)[0])
        self._write(target, data)

    def write_many(self, files: Mapping[str, bytes]) -> None:
        """write_bytes for many files, in parallel (each file still replaced atomically)."""
        targets = {share_path(path): data for path, data in files.items()}
        for directory in sorted({split(target)[0] for target in targets}):
            self._ensure_directory(directory)
        with self._pool() as pool:
            list(pool.map(self._write, targets, targets.values()))

    def copy_files(self, source: str, destination: str, files: Manifest) -> None:
        """Copy File for each listed file, in parallel, inside the service (see file_copy); the first failure
        stops the wait for the others (their pending copies aborted) and is raised once they all ended."""
        origin, target = share_path(source), share_path(destination)
        copies = {share_path(join(target, name)): (share_path(join(origin, name)), md5) for name, md5 in files.items()}
        for directory in sorted({split(path)[0] for path in copies}):
            self._ensure_directory(directory)
        stop = threading.Event()
        with self._pool() as pool:
            futures = [
                pool.submit(copy_file, self._file(from_path), self._file(to_path), md5, self._copy_wait, stop)
                for to_path, (from_path, md5) in copies.items()
            ]
            try:
                for future in as_completed(futures):
                    future.result()
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise

    def delete_file(self, path: str) -> None:
        """Remove a file (missing is fine)."""
        with contextlib.suppress(ResourceNotFoundError):
            self._client.get_file_client(share_path(path)).delete_file()

    def rename_directory(self, source: str, destination: str) -> None:
        """Move a directory to `destination`, which does not exist yet, in one step (Rename Directory)."""
        origin, target = share_path(source), share_path(destination)
        self._ensure_directory(split(target)[0])
        try:
            self._client.get_directory_client(origin).rename_directory(target)
        except ResourceNotFoundError:  # a retry whose first attempt moved it (its reply lost) finds no source
            if self.exists(origin) or not self.exists(target):
                raise
        self._forget(origin)
        self._known_directories.add(target)

    def delete_directory(self, path: str) -> None:
        """Remove a directory and everything under it (missing is fine): files, then directories deepest first."""
        root = share_path(path)
        if not root:
            raise ValueError("refusing to delete the whole share")
        with self._pool() as pool:
            files, directories = walk(self._client, root, pool)
            list(pool.map(self.delete_file, files))
        for directory in sorted(directories, key=lambda item: item.count("/"), reverse=True):
            with contextlib.suppress(ResourceNotFoundError):
                self._client.get_directory_client(directory).delete_directory()
        self._forget(root)

    def _forget(self, directory: str) -> None:
        """Drop `directory` and everything under it from the directories known to exist."""
        self._known_directories = {known for known in self._known_directories if not is_within(known, directory)}

    def _file(self, path: str) -> ShareFileClient:
        return self._client.get_file_client(path)

    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="azure-files")

    def _ensure_directory(self, directory: str) -> None:
        """Create `directory` and its missing parents, top-down; an existing directory is fine."""
        for current in ancestry(directory):
            if current in self._known_directories:
                continue
            try:
                self._client.get_directory_client(current).create_directory()
            except ResourceExistsError as error:
                if error_code(error) != StorageErrorCode.RESOURCE_ALREADY_EXISTS:
                    raise
            self._known_directories.add(current)

    def _write(self, target: str, data: bytes) -> None:
        """Upload to a temporary name beside `target` with its MD5 stored, then rename it over `target`."""
        parent, name = split(target)
        temporary = self._client.get_file_client(join(parent, f".{name}.{uuid.uuid4().hex[:12]}.tmp"))
        md5 = bytearray(hashlib.md5(data, usedforsecurity=False).digest())
        settings = ContentSettings(content_md5=md5)
        try:
            if len(data) <= RANGE_BYTES:
                temporary.create_file(
                    len(data), content_settings=settings, data=data or None, validate_content="md5" if data else None
                )
            else:
                temporary.upload_file(
                    data,
                    len(data),
                    content_settings=settings,
                    validate_content="md5",
                    max_concurrency=self._concurrency,
                )
            self._rename_over(temporary, target, md5)
        except BaseException:
            _discard(temporary)
            raise

    def _rename_over(self, temporary: ShareFileClient, target: str, md5: bytearray) -> None:
        """Rename File onto `target`; a retry whose first attempt landed (reply lost) finds no source but our MD5."""
        try:
            temporary.rename_file(target, overwrite=True)
        except ResourceNotFoundError:
            try:
                landed = self._client.get_file_client(target).get_file_properties().content_settings.content_md5
            except ResourceNotFoundError:
                landed = None
            if landed != md5:
                raise


def _discard(temporary: ShareFileClient) -> None:
    """Best-effort removal of a temporary file after a failed write (the write's own error is what matters)."""
    try:
        temporary.delete_file()
    except AzureError as error:
        path = join(temporary.directory_path, temporary.file_name)
        _LOGGER.warning("could not remove temporary file %s: %s", path, type(error).__name__)


def azure_share(settings: ServiceSettings, share_name: str | None = None) -> AzureFileShare:
    """The Azure Files share named in settings (or `share_name`), through the one credential."""
    return AzureFileShare(share_client(settings, share_name), settings.azure_files_max_concurrency)
