"""What every simulated Azure Files reply carries, and the request's resolved target."""

import base64
import hashlib
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from tests.simulators.azure_files.store import FileProps, FilesError
from tests.simulators.https_server import Request, Response

API_VERSION = "2026-10-06"
MAX_RANGE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """The resource a request names: account, share, path inside the share ('' for the root)."""

    account: str
    share: str
    path: str
    endpoint: str


def reply(status: int, operation: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Response:
    """A reply with the headers every Azure Files response has (the HTTP server adds Date)."""
    base = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-version": API_VERSION}  # Date: added by the server
    return Response(status, {**base, **(headers or {})}, body, operation)


def property_headers(props: FileProps) -> dict[str, str]:
    """ETag, Last-Modified and identity headers of a file."""
    return {
        "ETag": props.etag,
        "Last-Modified": formatdate(props.last_modified, usegmt=True),
        "x-ms-file-id": props.file_id,
        "x-ms-server-encrypted": "true",
    }


def b64_digest(digest: bytes) -> str:
    """An MD5 digest as a Content-MD5 header value."""
    return base64.b64encode(digest).decode()


def b64_md5(data: bytes) -> str:
    """Base64 MD5 of `data`, as in Content-MD5."""
    return b64_digest(hashlib.md5(data, usedforsecurity=False).digest())


def decoded_md5(request: Request, header: str) -> bytes | None:
    """A base64 MD5 header's 16 bytes, None when absent; InvalidHeaderValue when malformed."""
    value = request.header(header)
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except ValueError:
        digest = b""
    if len(digest) != 16:
        raise FilesError("InvalidHeaderValue", f"{header} is not a base64 MD5")
    return digest


def check_transactional_md5(request: Request) -> None:
    """Md5Mismatch when the body does not match its Content-MD5 (checked, then discarded)."""
    expected = decoded_md5(request, "Content-MD5")
    if expected is not None and expected != hashlib.md5(request.body, usedforsecurity=False).digest():
        raise FilesError("Md5Mismatch")


def int_header(request: Request, header: str) -> int:
    """A required non-negative integer header."""
    value = request.header(header)
    if value is None:
        raise FilesError("MissingRequiredHeader", header)
    if not value.isdigit():
        raise FilesError("InvalidHeaderValue", header)
    return int(value)


def rename_source(target: Target, request: Request) -> str:
    """The share path named by x-ms-file-rename-source (a URL in the same share as the target)."""
    source = request.header("x-ms-file-rename-source")
    if not source:
        raise FilesError("MissingRequiredHeader", "x-ms-file-rename-source")
    parts = unquote(urlsplit(source).path).lstrip("/").split("/", 2)
    if len(parts) < 3 or parts[:2] != [target.account, target.share]:
        raise FilesError("InvalidHeaderValue", "x-ms-file-rename-source must name an item in the same share")
    return parts[2].strip("/")
