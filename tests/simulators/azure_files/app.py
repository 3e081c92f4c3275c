"""The Azure Files simulator: OAuth with backup intent, path-style URLs, the operations the share target uses.

URLs are path style, `https://127.0.0.1:<port>/<account>/<share>/<path>`: azure-storage-file-share 12.27.1 treats a
host starting with `127.0.0.1` or `localhost` as local and takes the account from the first path segment
(`_shared/base_client.py`, `StorageAccountHostsMixin.__init__`), as it does for Azurite.
Every request needs `Authorization: Bearer <token for https://storage.azure.com>` (401 otherwise) and
`x-ms-file-request-intent: backup` (403 otherwise). Copy File (a PUT with x-ms-copy-source) copies inside the
service from a file of the same account, authorized by that same request (see copy_ops); `copies` sets how many
stay pending, and for how long. Anything not implemented is a 400 UnsupportedOperation naming the method and query,
so an unexpected call shows. One account exists from the start; `add_account` adds more (what a
storage account the ARM simulator creates gets), each with its shares under its own directory.
"""

import threading
from collections.abc import Callable
from pathlib import Path

from tests.simulators.azure_files import copy_ops, directory_ops, file_ops
from tests.simulators.azure_files.copy_ops import CopyBehaviour
from tests.simulators.azure_files.replies import Target, reply
from tests.simulators.azure_files.store import FilesError, ShareStore
from tests.simulators.azure_files.xml_bodies import error_xml
from tests.simulators.https_server import Request, Response
from tests.simulators.identity import STORAGE_AUDIENCE, TokenRegistry

Operation = Callable[[ShareStore, Target, Request], Response]
KNOWN_QUERY = {"restype", "comp", "timeout", "prefix", "marker", "maxresults", "include", "copyid"}
DEFAULT_ACCOUNT = "devstoreaccount1"


class AzureFilesApp:
    """One storage account's file service; shares live under `root` (see ShareStore)."""

    def __init__(self, root: Path, tokens: TokenRegistry, account: str = DEFAULT_ACCOUNT, page_cap: int = 5000) -> None:
        self.store = ShareStore(root)
        self.stores = {account: self.store}
        self.tokens = tokens
        self.account = account
        self.page_cap = page_cap
        self.copies = CopyBehaviour()
        self._settling = threading.Lock()
        self.routes: dict[tuple[str, str, str], tuple[str, Operation]] = {
            ("PUT", "share", ""): ("CreateShare", directory_ops.create_share),
            ("PUT", "directory", ""): ("CreateDirectory", directory_ops.create_directory),
            ("DELETE", "directory", ""): ("DeleteDirectory", directory_ops.delete_directory),
            ("PUT", "directory", "rename"): ("RenameDirectory", directory_ops.rename_directory),
            ("GET", "directory", ""): ("GetDirectoryProperties", directory_ops.get_directory_properties),
            ("HEAD", "directory", ""): ("GetDirectoryProperties", directory_ops.get_directory_properties),
            ("GET", "directory", "list"): ("ListDirectoriesAndFiles", self._list),
            ("PUT", "", ""): ("CreateFile", file_ops.create_file),
            ("PUT", "", "range"): ("PutRange", file_ops.put_range),
            ("PUT", "", "rename"): ("RenameFile", file_ops.rename_file),
            ("PUT", "", "properties"): ("SetFileProperties", file_ops.set_file_properties),
            ("PUT", "", "copy"): ("AbortCopyFile", copy_ops.abort_copy),
            ("HEAD", "", ""): ("GetFileProperties", file_ops.get_file_properties),
            ("GET", "", ""): ("GetFile", file_ops.get_file),
            ("DELETE", "", ""): ("DeleteFile", file_ops.delete_file),
        }

    def share_dir(self, share: str, account: str | None = None) -> Path:
        """A share's backing directory (of the first account by default): what a container would mount."""
        return self.stores[account or self.account].root / share

    def add_account(self, account: str) -> None:
        """Serve another storage account (no share yet); an account served already is left as it is."""
        if account not in self.stores:
            self.stores[account] = ShareStore(self.store.root.parent / f"{self.store.root.name}-accounts" / account)

    def ensure_share(self, account: str, share: str) -> bool:
        """Create an empty share unless it exists (its files are kept); whether it was created."""
        directory = self.share_dir(share, account)
        if directory.is_dir():
            return False
        directory.mkdir(parents=True)
        return True

    def handle(self, request: Request) -> Response:
        """Authenticate, route, run; a FilesError becomes its REST error reply, logged as `<operation>:<code>`."""
        name = "Authenticate"
        try:
            self._authorize(request)
            with self._settling:  # pending copies whose time has come end before anything sees them
                for store in list(self.stores.values()):
                    copy_ops.settle_due(store)
            name, operation = self._route(request)
            target = self._target(request)
            return operation(self.stores[target.account], target, request)
        except FilesError as error:
            response = self.error(error.status, error.code, error.message)
            response.operation = f"{name}:{error.code}"
            return response

    def error(self, status: int, code: str, message: str) -> Response:
        """An Azure Files error: x-ms-error-code and an XML `<Error>` body."""
        headers = {"x-ms-error-code": code, "Content-Type": "application/xml"}
        return reply(status, code, headers, error_xml(code, message))

    def _authorize(self, request: Request) -> None:
        """401 without a valid storage token (never echoing it), 403 without the backup intent."""
        authorization = request.header("Authorization")
        if not authorization:
            raise FilesError("NoAuthenticationInformation")
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer":
            raise FilesError("InvalidAuthenticationInfo", "only OAuth bearer tokens are accepted here")
        if reason := self.tokens.rejection(token, STORAGE_AUDIENCE):
            raise FilesError("InvalidAuthenticationInfo", reason)
        if request.header("x-ms-file-request-intent") != "backup":
            raise FilesError("AuthorizationPermissionMismatch", "OAuth needs x-ms-file-request-intent: backup")
        if not request.header("x-ms-version"):
            raise FilesError("MissingRequiredHeader", "x-ms-version")

    def _route(self, request: Request) -> tuple[str, Operation]:
        unknown = set(request.query) - KNOWN_QUERY
        key = (request.method, request.query.get("restype", ""), request.query.get("comp", ""))
        if request.header("x-ms-copy-source") and key == ("PUT", "", "") and not unknown:
            return "CopyFile", self._copy
        if unknown or key not in self.routes or request.header("x-ms-copy-source"):
            query = "&".join(f"{name}={value}" for name, value in sorted(request.query.items()))
            raise FilesError("UnsupportedOperation", f"{request.method} ?{query} is not simulated")
        return self.routes[key]

    def _target(self, request: Request) -> Target:
        account, _, rest = request.path.lstrip("/").partition("/")
        share, _, path = rest.partition("/")
        if account not in self.stores or not share:
            raise FilesError("InvalidUri", f"expected /<{'|'.join(self.stores)}>/<share>/<path>, got {request.path}")
        endpoint = f"https://{request.header('Host')}/{account}/"
        return Target(account=account, share=share, path=path.strip("/"), endpoint=endpoint)

    def _copy(self, store: ShareStore, target: Target, request: Request) -> Response:
        return copy_ops.start_copy(store, target, request, self.copies)

    def _list(self, store: ShareStore, target: Target, request: Request) -> Response:
        return directory_ops.list_directory(store, target, request, self.page_cap)
