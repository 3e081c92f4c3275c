"""Copy File and Abort Copy File: a server-side copy from a file in the same storage account (any of its shares).

Copy File is PUT <destination> with `x-ms-copy-source: <source file URL>`, answered 202 with x-ms-copy-id and
x-ms-copy-status `success` or `pending`. The request's own authorization (bearer token with the backup intent, checked
by the app as for every operation) covers a source in the same account, as on Azure Files; a source in another
account would need a SAS, which is not simulated, so it is refused like a missing source: 404 CannotVerifyCopySource.
Content-MD5 and content type are copied with the content. A share of copies (`pending_chance`) stays pending for
`pending_s`: the destination is an empty file meanwhile, refuses changes (409 PendingCopyOperation), and the copy
completes from the source as it is then, or fails when the source changed since the copy started. Abort Copy File
(PUT ?comp=copy&copyid=<id>, x-ms-copy-action: abort) leaves an empty file whose copy status is `aborted`.
"""

import os
import random
import shutil
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.simulators.azure_files.replies import Target, property_headers, reply
from tests.simulators.azure_files.store import CopyState, FilesError, ShareStore
from tests.simulators.https_server import Request, Response


@dataclass
class CopyBehaviour:
    """How the simulated service runs copies: which share of them stays pending, and for how long."""

    pending_chance: float = 0.0
    pending_s: float = 0.3
    rng: random.Random = field(default_factory=lambda: random.Random(0))


def _stamp(location: Path) -> tuple[int, int]:
    status = location.stat()
    return status.st_mtime_ns, status.st_size


def _source(store: ShareStore, target: Target, request: Request) -> tuple[str, str, Path]:
    """(share, path, location) of the copy source: a file of this account at this endpoint, else 404."""
    url = request.header("x-ms-copy-source") or ""
    parts = urlsplit(url)
    if parts.query:
        raise FilesError("UnsupportedOperation", "a copy source with a query (SAS, share snapshot) is not simulated")
    account, _, rest = unquote(parts.path).lstrip("/").partition("/")
    share, _, path = rest.partition("/")
    if parts.netloc != request.header("Host") or account != target.account:
        raise FilesError("CannotVerifyCopySource", "a source in another storage account needs a SAS")
    try:
        location = store.require_file(share, path.strip("/"))
    except FilesError as error:
        raise FilesError("CannotVerifyCopySource", f"no file at the copy source ({error.code})") from error
    return share, path.strip("/"), location


def refuse_while_copying(store: ShareStore, target: Target) -> None:
    """409 PendingCopyOperation when the file is the destination of a copy still pending."""
    state = store.copy_of(target.share, target.path)
    if state is not None and state.status == "pending":
        raise FilesError("PendingCopyOperation")


def start_copy(store: ShareStore, target: Target, request: Request, behaviour: CopyBehaviour) -> Response:
    """PUT <destination> with x-ms-copy-source: copy now (success) or leave it pending for a while."""
    source_share, source_path, source = _source(store, target, request)
    destination = store.locate(target.share, target.path)
    store.require_parent(destination)
    if destination.is_dir():
        raise FilesError("ResourceTypeMismatch", "a directory has that name")
    refuse_while_copying(store, target)
    url = request.header("x-ms-copy-source") or ""
    state = CopyState(str(uuid.uuid4()), url, "pending", source.stat().st_size, (source_share, source_path))
    if behaviour.rng.random() < behaviour.pending_chance:
        destination.write_bytes(b"")
        props = store.replace_props(target.share, target.path, None, "application/octet-stream")
        state.source_stamp, state.due = _stamp(source), time.monotonic() + behaviour.pending_s
    else:
        shutil.copyfile(source, destination)
        copied = store.props(source_share, source_path)
        props = store.replace_props(target.share, target.path, copied.content_md5, copied.content_type)
        state.status, state.completed_at = "success", time.time()
    props.copy = state
    headers = {**property_headers(props), "x-ms-copy-id": state.copy_id, "x-ms-copy-status": state.status}
    return reply(202, "CopyFile", headers)


def settle_due(store: ShareStore) -> None:
    """End every pending copy whose time has come: the source's current content, or failed if it changed."""
    now = time.monotonic()
    for share, path, props in store.pending_copies():
        state = props.copy
        if state is None or state.due > now:
            continue
        source = store.locate(*state.source) if (store.root / state.source[0]).is_dir() else None
        destination = store.locate(share, path)
        if source is None or not source.is_file() or _stamp(source) != state.source_stamp:
            state.status, state.description = "failed", "412 SourceModified: the copy source changed or vanished"
        else:
            shutil.copyfile(source, destination)
            copied = store.props(*state.source)
            props.content_md5, props.content_type = copied.content_md5, copied.content_type
            state.status = "success"
        store.touch(share, path)
        state.completed_at = time.time()


def abort_copy(store: ShareStore, target: Target, request: Request) -> Response:
    """PUT <file>?comp=copy&copyid=<id> with x-ms-copy-action: abort: the file is left empty, status aborted."""
    location = store.require_file(target.share, target.path)
    if request.header("x-ms-copy-action") != "abort":
        raise FilesError("InvalidHeaderValue", "x-ms-copy-action must be abort")
    state = store.copy_of(target.share, target.path)
    if state is None or state.status != "pending":
        raise FilesError("NoPendingCopyOperation")
    if request.query.get("copyid") != state.copy_id:
        raise FilesError("CopyIdMismatch")
    os.truncate(location, 0)
    state.status, state.completed_at = "aborted", time.time()
    store.touch(target.share, target.path)
    return reply(204, "AbortCopyFile")


def copy_headers(state: CopyState | None) -> dict[str, str]:
    """The x-ms-copy-* headers Get File Properties and Get File show for a file that was a copy's destination."""
    if state is None:
        return {}
    done = state.total_bytes if state.status == "success" else 0
    headers = {
        "x-ms-copy-id": state.copy_id,
        "x-ms-copy-source": state.source_url,
        "x-ms-copy-status": state.status,
        "x-ms-copy-progress": f"{done}/{state.total_bytes}",
    }
    if state.completed_at is not None:
        headers["x-ms-copy-completion-time"] = formatdate(state.completed_at, usegmt=True)
    if state.description:
        headers["x-ms-copy-status-description"] = state.description
    return headers
