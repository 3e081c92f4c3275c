"""A threaded HTTPS server on loopback that serves one simulator app, injects faults and logs every request."""

import socket
import ssl
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.simulators.faults import FAULT_STATUS, FaultPlan
from tests.simulators.tls import LoopbackCA

IDLE_TIMEOUT_S = 30


@dataclass(frozen=True)
class Request:
    """What the app sees: method, percent-decoded path, query, headers (case-insensitive) and body."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        """A request header, or None."""
        return self.headers.get(name)


@dataclass
class Response:
    """What the app answers; `operation` names the request in the log."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    operation: str = ""


class App(Protocol):
    """A simulator's logic, independent of HTTP plumbing."""

    def handle(self, request: Request) -> Response:
        """Answer one request."""

    def error(self, status: int, code: str, message: str) -> Response:
        """An error reply shaped like the simulated service's."""


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it: `status` None means the connection was dropped."""

    method: str
    path: str
    query: dict[str, str]
    bytes_in: int
    status: int | None
    operation: str
    fault: str | None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    server: "_TlsServer"

    def _serve(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            refusal = self.server.simulator.app.error(411, "MissingContentLength", "chunked bodies are not simulated")
            self.write_response(refusal, head_only=self.command == "HEAD")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        request = Request(self.command, unquote(url.path), query, self.headers, body)
        self.server.simulator.serve(self, request)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = do_PATCH = do_OPTIONS = _serve

    def write_response(self, response: Response, head_only: bool) -> None:
        """Send status, headers and (except for HEAD) the body."""
        self.send_response(response.status)
        headers = {"Content-Length": str(len(response.body)), **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the simulator keeps its own request log."""


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    simulator: "HttpsSimulator"

    def finish_request(self, request: Any, client_address: Any) -> None:
        """TLS handshake in the connection's own thread, so a slow client never blocks the others."""
        try:
            connection = self.simulator.ca.server_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            connection.settimeout(IDLE_TIMEOUT_S)
            _Handler(connection, client_address, self)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass
        finally:
            connection.close()


class HttpsSimulator:
    """Runs `app` at https://127.0.0.1:<port> (a context manager); `faults` may be replaced at any time."""

    def __init__(self, app: App, ca: LoopbackCA, faults: FaultPlan | None = None) -> None:
        self.app = app
        self.ca = ca
        self.faults = faults
        self.before_request: Callable[[Request], None] | None = None
        self._log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server = _TlsServer(("127.0.0.1", 0), _Handler)
        self._server.simulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="https-simulator", daemon=True
        )

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def log(self) -> list[LoggedRequest]:
        """Every request so far, in arrival order."""
        with self._lock:
            return list(self._log)

    def __enter__(self) -> "HttpsSimulator":
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def serve(self, handler: _Handler, request: Request) -> None:
        """Answer one request: maybe a fault, else the app's reply (an unexpected exception is a 500)."""
        fault = self.faults.draw(request.method, request.query) if self.faults else None
        if fault and fault.kind in ("drop", "lost"):
            response = self._answer(request) if fault.kind == "lost" else None
            self._record(request, None, response.operation if response else "", fault.kind)
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.delay_s)
        if fault and fault.kind in FAULT_STATUS:
            status, code = FAULT_STATUS[fault.kind]
            response = self.app.error(status, code, f"injected fault: {fault.kind}")
            response.headers["Retry-After"] = str(self.faults.retry_after_s if self.faults else 1)
        else:
            response = self._answer(request)
        self._record(request, response.status, response.operation, fault.kind if fault else None)
        handler.write_response(response, head_only=request.method == "HEAD")

    def _answer(self, request: Request) -> Response:
        try:
            if self.before_request:
                self.before_request(request)
            return self.app.handle(request)
        except Exception as error:  # an unexpected exception is a simulator bug: show it to the client
            detail = "".join(traceback.format_exception_only(error)).strip()
            return self.app.error(500, "InternalError", f"simulator error: {detail}")

    def _record(self, request: Request, status: int | None, operation: str, fault: str | None) -> None:
        entry = LoggedRequest(request.method, request.path, request.query, len(request.body), status, operation, fault)
        with self._lock:
            self._log.append(entry)
