"""The simulated storage account's shares: files on disk at their share paths, their REST properties in memory.

`<root>/<share>/<path>` holds each file, so a share's directory can serve as a container's `/mount`. What only the
REST API knows (Content-MD5, content type, ETag, file id) lives beside it in memory; a file that appears on disk by
another route (as through an SMB mount) simply has no Content-MD5, as on Azure Files.
"""

import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ERRORS: dict[str, tuple[int, str]] = {
    "NoAuthenticationInformation": (401, "Server failed to authenticate the request: no Authorization header."),
    "InvalidAuthenticationInfo": (401, "Server failed to authenticate the request."),
    "AuthorizationPermissionMismatch": (403, "This request is not authorized to perform this operation."),
    "InvalidUri": (400, "The requested URI does not represent any resource on the server."),
    "InvalidHeaderValue": (400, "The value for one of the HTTP headers is not in the correct format."),
    "InvalidQueryParameterValue": (400, "Value for one of the query parameters specified in the request is invalid."),
    "MissingRequiredHeader": (400, "An HTTP header that's mandatory for this request is not specified."),
    "Md5Mismatch": (400, "The MD5 value in the request did not match the MD5 value calculated by the server."),
    "UnsupportedOperation": (400, "The simulator does not implement this operation."),
    "RequestBodyTooLarge": (413, "The request body is too large and exceeds the maximum permissible limit."),
    "InvalidRange": (416, "The range specified is invalid for the current size of the resource."),
    "ShareNotFound": (404, "The specified share does not exist."),
    "ResourceNotFound": (404, "The specified resource does not exist."),
    "ParentNotFound": (404, "The specified parent path does not exist."),
    "ShareAlreadyExists": (409, "The specified share already exists."),
    "ResourceAlreadyExists": (409, "The specified resource already exists."),
    "ResourceTypeMismatch": (409, "The specified resource type does not match the type of the resource."),
    "DirectoryNotEmpty": (409, "The specified directory is not empty."),
    "CannotVerifyCopySource": (404, "The specified resource does not exist."),
    "PendingCopyOperation": (409, "There is currently a pending copy operation."),
    "NoPendingCopyOperation": (409, "There is currently no pending copy operation."),
    "CopyIdMismatch": (409, "The specified copy ID did not match the copy ID for the pending copy operation."),
}


class FilesError(Exception):
    """An Azure Files error reply: status and x-ms-error-code from ERRORS, plus an optional detail."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.status, message = ERRORS[code]
        self.message = f"{message} {detail}".strip()
        super().__init__(self.message)


@dataclass
class CopyState:
    """The last Copy File into a file: what Get File Properties shows as x-ms-copy-*, and how a pending one ends.

    A pending copy completes at `due` (time.monotonic) from the source as it is then, or fails when the source's
    `source_stamp` (mtime_ns, size) changed meanwhile, as the service fails a copy whose source changes.
    """

    copy_id: str
    source_url: str
    status: str
    total_bytes: int
    source: tuple[str, str] = ("", "")
    source_stamp: tuple[int, int] = (0, 0)
    due: float = 0.0
    completed_at: float | None = None
    description: str | None = None


@dataclass
class FileProps:
    """A file's REST properties: what Get File Properties answers besides the size."""

    file_id: str
    etag: str
    last_modified: float
    content_md5: bytes | None = None
    content_type: str = "application/octet-stream"
    copy: CopyState | None = None


@dataclass
class ShareStore:
    """Shares under `root`, one directory each."""

    root: Path
    _props: dict[tuple[str, str], FileProps] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))

    def create_share(self, share: str) -> None:
        """Create an empty share."""
        directory = self.root / share
        if directory.exists():
            raise FilesError("ShareAlreadyExists")
        directory.mkdir(parents=True)

    def locate(self, share: str, path: str) -> Path:
        """Where a share path lives on disk (the share must exist; no `..` or empty segments)."""
        share_dir = self.root / share
        if not share_dir.is_dir():
            raise FilesError("ShareNotFound")
        parts = PurePosixPath(path).parts if path else ()
        if any(part in ("..", ".", "/") for part in parts):
            raise FilesError("InvalidUri", f"bad path {path!r}")
        return share_dir.joinpath(*parts)

    def require_parent(self, location: Path) -> None:
        """ParentNotFound unless the parent directory exists."""
        if not location.parent.is_dir():
            raise FilesError("ParentNotFound")

    def require_file(self, share: str, path: str) -> Path:
        """The file's location; ResourceNotFound when there is no file there."""
        location = self.locate(share, path)
        if not location.is_file():
            raise FilesError("ResourceNotFound")
        return location

    def require_directory(self, share: str, path: str) -> Path:
        """The directory's location; ResourceNotFound when there is no directory there."""
        location = self.locate(share, path)
        if not location.is_dir():
            raise FilesError("ResourceNotFound")
        return location

    def props(self, share: str, path: str) -> FileProps:
        """A file's properties (a file written by another route gets fresh ones with no Content-MD5)."""
        with self._lock:
            return self._props.setdefault((share, path), self._new_props())

    def replace_props(self, share: str, path: str, content_md5: bytes | None, content_type: str) -> FileProps:
        """New properties for a (re)created file."""
        props = self._new_props()
        props.content_md5, props.content_type = content_md5, content_type
        with self._lock:
            self._props[(share, path)] = props
        return props

    def touch(self, share: str, path: str) -> FileProps:
        """Record a content change: new ETag and Last-Modified, other properties kept."""
        props = self.props(share, path)
        with self._lock:
            props.etag, props.last_modified = self._etag(), time.time()
        return props

    def move_props(self, share: str, source: str, target: str) -> FileProps:
        """A renamed file keeps its properties."""
        props = self.props(share, source)
        with self._lock:
            self._props[(share, target)] = self._props.pop((share, source), props)
        return props

    def move_tree_props(self, share: str, source: str, target: str) -> None:
        """A renamed directory's files keep their properties under the new path."""
        with self._lock:
            moved = [key for key in self._props if key[0] == share and key[1].startswith(f"{source}/")]
            for key in moved:
                self._props[(share, target + key[1][len(source) :])] = self._props.pop(key)

    def copy_of(self, share: str, path: str) -> CopyState | None:
        """The last copy into a file, if it has one (creates no properties for a path that has none)."""
        with self._lock:
            props = self._props.get((share, path))
        return props.copy if props else None

    def pending_copies(self) -> list[tuple[str, str, FileProps]]:
        """(share, path, properties) of every file whose copy is still pending."""
        with self._lock:
            return [
                (*key, props) for key, props in self._props.items() if props.copy and props.copy.status == "pending"
            ]

    def drop_props(self, share: str, path: str) -> None:
        """Forget a deleted file's properties."""
        with self._lock:
            self._props.pop((share, path), None)

    def _new_props(self) -> FileProps:
        return FileProps(file_id=str(next(self._counter) * 1_000_003), etag=self._etag(), last_modified=time.time())

    def _etag(self) -> str:
        return f'"0x{next(self._counter):016X}"'
