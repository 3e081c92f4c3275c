"""A directory tree's manifest on Azure Files: one listing per directory, then each file's stored MD5.

Azure Files computes no MD5 of a file, and List Directories and Files cannot return one (its `include` offers only
Timestamps, ETag, Attributes and PermissionKey). So the Azure share stores each file's MD5 as its Content-MD5 when it
writes it, and a manifest costs one listing per directory page plus one Get File Properties (HEAD) per file, sent in
parallel. A file without a stored MD5 (written through an SMB mount, like the training output) is downloaded and hashed.
The REST listing names only items inside the share and follows no link, so nothing listed can resolve outside it.
"""

import hashlib
from concurrent.futures import Executor
from pathlib import PurePosixPath

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.fileshare import ShareClient, StorageErrorCode

from share_layout.manifest import Manifest, is_cache_file
from targets.azure.share_paths import join


def error_code(error: AzureError) -> str | None:
    """The x-ms-error-code the storage SDK attached to an error (e.g. ParentNotFound), if any."""
    return getattr(error, "error_code", None)


def _children(share: ShareClient, directory: str) -> tuple[list[str], list[str]] | None:
    """(files, subdirectories) directly in `directory`, as share paths; None when it is missing."""
    files: list[str] = []
    directories: list[str] = []
    try:
        for item in share.get_directory_client(directory).list_directories_and_files():
            (directories if item["is_directory"] else files).append(join(directory, item["name"]))
    except ResourceNotFoundError as error:
        if error_code(error) == StorageErrorCode.SHARE_NOT_FOUND:
            raise
        return None
    return files, directories


def walk(share: ShareClient, root: str, pool: Executor) -> tuple[list[str], list[str]]:
    """Every file and directory under `root`, `root` included when it exists; each level listed in parallel."""
    files: list[str] = []
    directories: list[str] = []
    level = [root]
    while level:
        listed = pool.map(lambda directory: _children(share, directory), level)
        found = [(path, children) for path, children in zip(level, listed, strict=True) if children is not None]
        directories += [path for path, _ in found]
        files += [file for _, (level_files, _) in found for file in level_files]
        level = [subdirectory for _, (_, subdirectories) in found for subdirectory in subdirectories]
    return files, directories


def file_md5(share: ShareClient, path: str) -> str | None:
    """The MD5 hex stored with a file, else computed from its content; None when the file vanished meanwhile."""
    client = share.get_file_client(path)
    try:
        stored = client.get_file_properties().content_settings.content_md5
        if stored:
            return bytes(stored).hex()
        digest = hashlib.md5(usedforsecurity=False)
        for chunk in client.download_file().chunks():
            digest.update(chunk)
        return digest.hexdigest()
    except ResourceNotFoundError:
        return None


def manifest(share: ShareClient, root: str, files: list[str], pool: Executor) -> Manifest:
    """{path relative to `root`: MD5 hex} of `files` (caches left out, as locally), reading the MD5s in parallel."""
    prefix = f"{root}/" if root else ""
    files = [path for path in files if not is_cache_file(PurePosixPath(path.removeprefix(prefix)))]
    md5s = pool.map(lambda path: file_md5(share, path), files)
    return {path.removeprefix(prefix): md5 for path, md5 in zip(files, md5s, strict=True) if md5 is not None}
