"""Share and directory operations: Create Share, Create/Delete/Get Directory, List Directories and Files (paged)."""

import hashlib
from email.utils import formatdate
from pathlib import Path

from tests.simulators.azure_files.replies import Target, rename_source, reply
from tests.simulators.azure_files.store import FilesError, ShareStore
from tests.simulators.azure_files.xml_bodies import Entry, ListingPage, listing_xml
from tests.simulators.https_server import Request, Response

SERVICE_MAX_RESULTS = 5000
LIST_INCLUDE = {"timestamps", "etag", "attributes", "permissionkey"}


def _directory_headers(location: Path, path: str) -> dict[str, str]:
    return {
        "ETag": f'"0x{int(location.stat().st_mtime_ns):016X}"',
        "Last-Modified": formatdate(location.stat().st_mtime, usegmt=True),
        "x-ms-file-id": _directory_id(path),
        "x-ms-file-attributes": "Directory",
        "x-ms-server-encrypted": "true",
    }


def _directory_id(path: str) -> str:
    return str(int(hashlib.sha256(path.encode()).hexdigest()[:12], 16))


def create_share(store: ShareStore, target: Target, request: Request) -> Response:
    """PUT <share>?restype=share."""
    store.create_share(target.share)
    return reply(201, "CreateShare")


def create_directory(store: ShareStore, target: Target, request: Request) -> Response:
    """PUT <dir>?restype=directory: the parent must exist (no recursive create)."""
    location = store.locate(target.share, target.path)
    if location.is_dir():
        raise FilesError("ResourceAlreadyExists")
    store.require_parent(location)
    if location.exists():
        raise FilesError("ResourceTypeMismatch", "a file has that name")
    location.mkdir()
    return reply(201, "CreateDirectory", _directory_headers(location, target.path))


def delete_directory(store: ShareStore, target: Target, request: Request) -> Response:
    """DELETE <dir>?restype=directory: only an empty directory, never the share root."""
    location = store.require_directory(target.share, target.path)
    if not target.path:
        raise FilesError("InvalidUri", "the share root cannot be deleted")
    if any(location.iterdir()):
        raise FilesError("DirectoryNotEmpty")
    location.rmdir()
    return reply(202, "DeleteDirectory")


def rename_directory(store: ShareStore, target: Target, request: Request) -> Response:
    """PUT <new path>?restype=directory&comp=rename: an atomic move of the whole tree to a name not taken yet."""
    source_path = rename_source(target, request)
    source = store.require_directory(target.share, source_path)
    destination = store.locate(target.share, target.path)
    store.require_parent(destination)
    if not source_path or f"{target.path}/".startswith(f"{source_path}/"):
        raise FilesError("InvalidHeaderValue", "a directory cannot move into itself")
    if destination.exists():
        raise FilesError("ResourceAlreadyExists" if destination.is_dir() else "ResourceTypeMismatch")
    source.rename(destination)
    store.move_tree_props(target.share, source_path, target.path)
    return reply(200, "RenameDirectory", _directory_headers(destination, target.path))


def get_directory_properties(store: ShareStore, target: Target, request: Request) -> Response:
    """GET/HEAD <dir>?restype=directory."""
    location = store.require_directory(target.share, target.path)
    return reply(200, "GetDirectoryProperties", _directory_headers(location, target.path))


def _max_results(request: Request, page_cap: int) -> int:
    value = request.query.get("maxresults")
    if value is not None and not (value.isdigit() and 1 <= int(value) <= SERVICE_MAX_RESULTS):
        raise FilesError("InvalidQueryParameterValue", f"maxresults={value}")
    return min(int(value) if value else SERVICE_MAX_RESULTS, page_cap)


def _check_include(request: Request) -> None:
    unknown = {item for item in request.query.get("include", "").lower().split(",") if item} - LIST_INCLUDE
    if unknown:
        raise FilesError("InvalidQueryParameterValue", f"include={sorted(unknown)}")


def list_directory(store: ShareStore, target: Target, request: Request, page_cap: int) -> Response:
    """GET <dir>?restype=directory&comp=list[&prefix][&marker][&maxresults]: names in order, `page_cap` at most."""
    location = store.require_directory(target.share, target.path)
    _check_include(request)
    limit = _max_results(request, page_cap)
    prefix, marker = request.query.get("prefix"), request.query.get("marker")
    children = sorted(
        (child for child in location.iterdir() if child.name.startswith(prefix or "")), key=lambda child: child.name
    )
    remaining = [child for child in children if marker is None or child.name >= marker]
    page, rest = remaining[:limit], remaining[limit:]
    entries = [entry for child in page if (entry := _entry(store, target, child)) is not None]
    listing = ListingPage(
        service_endpoint=target.endpoint,
        share=target.share,
        directory=target.path,
        prefix=prefix,
        marker=marker,
        max_results=int(request.query["maxresults"]) if "maxresults" in request.query else None,
        entries=entries,
        next_marker=rest[0].name if rest else "",
    )
    return reply(200, "ListDirectoriesAndFiles", {"Content-Type": "application/xml"}, listing_xml(listing))


def _entry(store: ShareStore, target: Target, child: Path) -> Entry | None:
    """A listed child; None when it vanished meanwhile (renamed or deleted by a concurrent request)."""
    path = f"{target.path}/{child.name}".lstrip("/")
    try:
        if child.is_dir():
            return Entry(child.name, _directory_id(path), is_directory=True)
        size = child.stat().st_size
    except FileNotFoundError:
        return None
    return Entry(child.name, store.props(target.share, path).file_id, is_directory=False, size=size)
