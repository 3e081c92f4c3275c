"""File operations: Create File (optionally with data), Put Range, Rename File, Set/Get Properties, Get, Delete.

A file that is the destination of a pending copy refuses changes (copy_ops); its properties show the copy.
"""

import os
import re
from pathlib import Path

from tests.simulators.azure_files.copy_ops import copy_headers, refuse_while_copying
from tests.simulators.azure_files.replies import (
    MAX_RANGE_BYTES,
    Target,
    b64_digest,
    b64_md5,
    check_transactional_md5,
    decoded_md5,
    int_header,
    property_headers,
    rename_source,
    reply,
)
from tests.simulators.azure_files.store import FilesError, ShareStore
from tests.simulators.https_server import Request, Response

DEFAULT_CONTENT_TYPE = "application/octet-stream"
RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def _range(request: Request) -> tuple[int, int | None] | None:
    """(start, end or None) from x-ms-range or Range; None when neither is given."""
    value = request.header("x-ms-range") or request.header("Range")
    if value is None:
        return None
    match = RANGE.match(value)
    if not match:
        raise FilesError("InvalidHeaderValue", f"range {value!r}")
    return int(match[1]), int(match[2]) if match[2] else None


def create_file(store: ShareStore, target: Target, request: Request) -> Response:
    """PUT <file> with x-ms-type: file and x-ms-content-length; a body (up to 4 MiB) is written at offset 0."""
    location = store.locate(target.share, target.path)
    store.require_parent(location)
    if location.is_dir():
        raise FilesError("ResourceTypeMismatch", "a directory has that name")
    if (request.header("x-ms-type") or "").lower() != "file":
        raise FilesError("MissingRequiredHeader", "x-ms-type: file")
    length = int_header(request, "x-ms-content-length")
    if len(request.body) > MAX_RANGE_BYTES or len(request.body) > length:
        raise FilesError("RequestBodyTooLarge", "the body must fit in x-ms-content-length and 4 MiB")
    check_transactional_md5(request)
    refuse_while_copying(store, target)
    with location.open("wb") as handle:
        handle.truncate(length)
        handle.write(request.body)
    content_type = request.header("x-ms-content-type") or DEFAULT_CONTENT_TYPE
    props = store.replace_props(target.share, target.path, decoded_md5(request, "x-ms-content-md5"), content_type)
    return reply(201, "CreateFile", {**property_headers(props), "x-ms-request-server-encrypted": "true"})


def put_range(store: ShareStore, target: Target, request: Request) -> Response:
    """PUT <file>?comp=range with x-ms-write: update: write the body at the range (the file is visible meanwhile)."""
    location = store.require_file(target.share, target.path)
    refuse_while_copying(store, target)
    if request.header("x-ms-write") != "update":
        raise FilesError("UnsupportedOperation", f"x-ms-write: {request.header('x-ms-write')}")
    start, end = _range(request) or (0, None)
    if end is None:
        raise FilesError("MissingRequiredHeader", "x-ms-range: bytes=<start>-<end>")
    if end - start + 1 != len(request.body):
        raise FilesError("InvalidHeaderValue", "the range length differs from Content-Length")
    if len(request.body) > MAX_RANGE_BYTES:
        raise FilesError("RequestBodyTooLarge", "a range is at most 4 MiB")
    if end >= location.stat().st_size:
        raise FilesError("InvalidRange")
    check_transactional_md5(request)
    with location.open("r+b") as handle:
        handle.seek(start)
        handle.write(request.body)
    headers = {**property_headers(store.touch(target.share, target.path)), "x-ms-request-server-encrypted": "true"}
    if request.header("Content-MD5"):
        headers["Content-MD5"] = b64_md5(request.body)
    return reply(201, "PutRange", headers)


def rename_file(store: ShareStore, target: Target, request: Request) -> Response:
    """PUT <new path>?comp=rename: an atomic move that keeps the file's properties (Content-MD5 included)."""
    source_path = rename_source(target, request)
    source = store.require_file(target.share, source_path)
    destination = store.locate(target.share, target.path)
    store.require_parent(destination)
    if destination.is_dir():
        raise FilesError("ResourceTypeMismatch", "a directory has the new name")
    if destination.exists() and request.header("x-ms-file-rename-replace-if-exists") != "true":
        raise FilesError("ResourceAlreadyExists")
    os.replace(source, destination)
    props = store.move_props(target.share, source_path, target.path)
    return reply(200, "RenameFile", property_headers(props))


def set_file_properties(store: ShareStore, target: Target, request: Request) -> Response:
    """PUT <file>?comp=properties: content headers not given are cleared; x-ms-content-length resizes."""
    location = store.require_file(target.share, target.path)
    refuse_while_copying(store, target)
    if request.header("x-ms-content-length") is not None:
        os.truncate(location, int_header(request, "x-ms-content-length"))
    content_type = request.header("x-ms-content-type") or DEFAULT_CONTENT_TYPE
    store.replace_props(target.share, target.path, decoded_md5(request, "x-ms-content-md5"), content_type)
    return reply(200, "SetFileProperties", property_headers(store.touch(target.share, target.path)))


def _content_headers(store: ShareStore, target: Target, location: Path) -> dict[str, str]:
    props = store.props(target.share, target.path)
    headers = {**property_headers(props), "x-ms-type": "File", "Content-Type": props.content_type}
    headers.update(copy_headers(props.copy))
    headers["Content-Length"] = str(location.stat().st_size)
    return headers


def get_file_properties(store: ShareStore, target: Target, request: Request) -> Response:
    """HEAD <file>: size, content type, the stored Content-MD5 (when one was set), ETag."""
    location = store.require_file(target.share, target.path)
    headers = _content_headers(store, target, location)
    if (md5 := store.props(target.share, target.path).content_md5) is not None:
        headers["Content-MD5"] = b64_digest(md5)
    return reply(200, "GetFileProperties", headers)


def get_file(store: ShareStore, target: Target, request: Request) -> Response:
    """GET <file>: the whole file (200, with the stored Content-MD5) or a range (206, with x-ms-content-md5)."""
    location = store.require_file(target.share, target.path)
    headers = {**_content_headers(store, target, location), "Accept-Ranges": "bytes"}
    size, stored_md5 = location.stat().st_size, store.props(target.share, target.path).content_md5
    span = _range(request)
    if span is None:
        if stored_md5 is not None:
            headers["Content-MD5"] = b64_digest(stored_md5)
        headers.pop("Content-Length")
        return reply(200, "GetFile", headers, location.read_bytes())
    start, end = span[0], min(span[1] if span[1] is not None else size - 1, size - 1)
    if start >= size:
        raise FilesError("InvalidRange")
    with location.open("rb") as handle:
        handle.seek(start)
        body = handle.read(end - start + 1)
    headers.update({"Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(len(body))})
    if stored_md5 is not None:
        headers["x-ms-content-md5"] = b64_digest(stored_md5)
    if request.header("x-ms-range-get-content-md5") == "true":
        headers["Content-MD5"] = b64_md5(body)
    return reply(206, "GetFile", headers, body)


def delete_file(store: ShareStore, target: Target, request: Request) -> Response:
    """DELETE <file>."""
    store.require_file(target.share, target.path).unlink()
    store.drop_props(target.share, target.path)
    return reply(202, "DeleteFile")
