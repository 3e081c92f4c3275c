"""Share-relative POSIX paths as Azure Files names them: '' is the root, no leading slash, nothing outside."""

from pathlib import PurePosixPath


def share_path(relative: str) -> str:
    """A share-relative path, normalized ('' is the root); ValueError for anything outside the share."""
    parts = PurePosixPath(relative).parts
    if relative.startswith("/") or "\\" in relative or ".." in parts:
        raise ValueError(f"path {relative!r} is outside the share")
    return "/".join(part for part in parts if part != ".")


def split(path: str) -> tuple[str, str]:
    """(parent directory, name) of a share path."""
    parent, _, name = path.rpartition("/")
    return parent, name


def join(directory: str, name: str) -> str:
    """`name` inside `directory` ('' is the root)."""
    return f"{directory}/{name}" if directory else name


def is_within(path: str, directory: str) -> bool:
    """Whether `path` is `directory` or lies under it."""
    return path == directory or path.startswith(f"{directory}/")


def ancestry(path: str) -> list[str]:
    """`path` and each directory above it, outermost first ('a', 'a/b', 'a/b/c'); none for the root."""
    parts = path.split("/") if path else []
    return ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
