"""Server-side Copy File on Azure Files: start it, wait for the service to finish it, keep the listed MD5.

Copy File (PUT <destination> with `x-ms-copy-source: <source URL>`) copies inside the storage service, so no byte of
the file passes through this process. Within one account, an OAuth request with the backup intent authorizes the
source by the same bearer token (the SDK's own test_copy_file_with_existing_file_oauth copies from a plain source
URL with a token credential); the source URL carries no SAS and no key. The reply is 202 with x-ms-copy-status
`success` or `pending`; a pending copy is polled with Get File Properties (copy status) until `success`, `failed` or
`aborted`, and aborted when it outlives its deadline. Copy File copies the source's Content-MD5 with the content
(Copy File docs, "Copying properties and metadata"); a source written through SMB has none, so the copy gets the
listed MD5 by Set File Properties afterwards (its other content headers kept), and a stored MD5 that differs from
the listed one means the source changed since it was listed. What stays unseen: a source with no stored MD5 rewritten
between its listing and the start of its copy (a change during the copy fails the copy, on the service's side).
"""

import contextlib
import threading
import time
from dataclasses import dataclass

from azure.core.exceptions import AzureError, HttpResponseError
from azure.storage.fileshare import ContentSettings, FileProperties, ShareFileClient, StorageErrorCode

from targets.azure.listing import error_code


@dataclass(frozen=True)
class CopyWait:
    """How long a pending copy may take, and how often its status is read (backing off to `max_poll_s`)."""

    timeout_s: float = 900.0
    first_poll_s: float = 0.2
    max_poll_s: float = 5.0


class CopyFailed(OSError):
    """A copy the service reported failed or aborted, or one whose content is not the listed one."""


def copy_file(
    source: ShareFileClient, destination: ShareFileClient, md5_hex: str, wait: CopyWait, stop: threading.Event
) -> None:
    """Copy `source` onto `destination` inside the service and wait for the end; `stop` aborts the wait early."""
    copy_id, status = _start(source, destination)
    properties = _wait(destination, copy_id, wait, stop) if status == "pending" else None
    properties = properties or destination.get_file_properties()
    if properties.copy.status != "success":
        detail = properties.copy.status_description or "no detail given"
        raise CopyFailed(f"copying {_name(source)} to {_name(destination)} {properties.copy.status}: {detail}")
    _keep_md5(destination, properties, md5_hex, _name(source))


def _start(source: ShareFileClient, destination: ShareFileClient) -> tuple[str, str]:
    """(copy id, status) of a new copy; a retry whose first attempt started one (reply lost) adopts that copy."""
    try:
        started = destination.start_copy_from_url(source.url)
    except HttpResponseError as error:
        if error_code(error) != StorageErrorCode.PENDING_COPY_OPERATION:
            raise
        pending = destination.get_file_properties().copy
        return str(pending.id), str(pending.status)
    return str(started["copy_id"]), str(started["copy_status"])


def _wait(destination: ShareFileClient, copy_id: str, wait: CopyWait, stop: threading.Event) -> FileProperties:
    """The destination's properties once its copy ended; TimeoutError (after aborting it) past the deadline."""
    deadline = time.monotonic() + wait.timeout_s
    delay = wait.first_poll_s
    while True:
        if stop.wait(min(delay, max(deadline - time.monotonic(), 0.0))):
            _abort(destination, copy_id)
            raise CopyFailed(f"copy to {_name(destination)} aborted: another copy failed")
        properties = destination.get_file_properties()
        if properties.copy.id != copy_id:
            raise CopyFailed(f"copy to {_name(destination)} was replaced by another copy ({properties.copy.id})")
        if properties.copy.status != "pending":
            return properties
        if time.monotonic() >= deadline:
            _abort(destination, copy_id)
            raise TimeoutError(f"copy to {_name(destination)} still pending after {wait.timeout_s:g} s; aborted it")
        delay = min(delay * 2, wait.max_poll_s)


def _abort(destination: ShareFileClient, copy_id: str) -> None:
    """Best effort: a copy that ended meanwhile cannot be aborted (NoPendingCopyOperation), which is fine."""
    with contextlib.suppress(AzureError):
        destination.abort_copy(copy_id)


def _keep_md5(destination: ShareFileClient, properties: FileProperties, md5_hex: str, source_name: str) -> None:
    """Make the copy's stored Content-MD5 the listed one: set it when the source had none, refuse a different one."""
    settings = properties.content_settings
    stored = settings.content_md5
    if stored:
        if bytes(stored).hex() != md5_hex:
            raise CopyFailed(f"{source_name} changed since it was listed (its stored MD5 differs); deploy again")
        return
    destination.set_http_headers(
        content_settings=ContentSettings(
            content_type=settings.content_type,
            content_encoding=settings.content_encoding,
            content_language=settings.content_language,
            content_disposition=settings.content_disposition,
            cache_control=settings.cache_control,
            content_md5=bytearray.fromhex(md5_hex),
        )
    )


def _name(client: ShareFileClient) -> str:
    return "/".join(part for part in (client.directory_path, client.file_name) if part)
