"""Content manifests: relative path -> MD5 (what Azure Files stores as Content-MD5), and their digests."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath

Manifest = dict[str, str]

SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def md5_bytes(data: bytes) -> str:
    """MD5 hex of a blob (used for change detection, not security)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_file(path: Path) -> str:
    """MD5 hex of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_cache_file(relative: PurePath) -> bool:
    """Bytecode or a tool cache: never synced, and never a reason to delete (a server writes them where it runs)."""
    return bool(SKIPPED_PARTS.intersection(relative.parts)) or relative.suffix in SKIPPED_SUFFIXES


def iter_source_files(root: Path) -> Iterator[Path]:
    """Files under `root` worth syncing: no bytecode or tool caches."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not is_cache_file(path.relative_to(root)):
            yield path


def manifest_of_directory(root: Path) -> Manifest:
    """Manifest of a local directory tree."""
    return {path.relative_to(root).as_posix(): md5_file(path) for path in iter_source_files(root)}


def digest(manifest: Manifest) -> str:
    """One SHA-256 over a manifest: equal digests mean equal trees."""
    lines = "".join(f"{path}\0{md5}\n" for path, md5 in sorted(manifest.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


@dataclass(frozen=True)
class ManifestDiff:
    """What it takes to make the destination equal the source."""

    to_copy: list[str]
    to_delete: list[str]
    unchanged: int


def diff(source: Manifest, destination: Manifest) -> ManifestDiff:
    """Files to copy (new or changed), files to delete (gone from the source), and how many already match."""
    to_copy = sorted(path for path, md5 in source.items() if destination.get(path) != md5)
    to_delete = sorted(set(destination) - set(source))
    return ManifestDiff(to_copy=to_copy, to_delete=to_delete, unchanged=len(source) - len(to_copy))
