"""The simulated ingress: the app's loopback port, forwarding each request to a revision its traffic picks.

Container Apps' ingress (Envoy) routes every request on the app's FQDN to one of the revisions with traffic, by
weight. Here a threaded HTTP server on the app's port asks `choose()` for a revision's loopback port per request and
forwards the request there, streaming the answer back (server-sent events included). A revision that refuses the
connection or drops it before answering (stopping after a promote, say) is not an error the client sees: the request
is sent again to a fresh choice, as Envoy's retry on connect failure and reset does, until RETRY_WINDOW_S passes.
`rewrite` stands for the container's filesystem: a request body naming a path under a volume mount (the admin
route's adapter_path, /mount/...) reaches the local process as the backing directory's path, as container_process
does for environment values.
"""

import http.client
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
RETRY_WINDOW_S = 2.0
RETRY_PAUSE_S = 0.05
UPSTREAM_TIMEOUT_S = 600.0
Chooser = Callable[[], int | None]
Rewrite = Callable[[bytes], bytes]


class _Forwarder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the answer ends when the connection closes: streamed bodies need no framing
    server: "_IngressServer"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the revisions' own logs say what they answered."""

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.server.rewrite(self.rfile.read(length)) if length else None
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"}
        deadline = time.monotonic() + RETRY_WINDOW_S
        while True:
            port = self.server.choose()
            reply = self._send(port, body, headers) if port is not None else None
            if reply is not None:
                break
            if time.monotonic() >= deadline:
                self.send_error(503, "no revision with traffic answers")
                return
            time.sleep(RETRY_PAUSE_S)
        connection, response = reply
        try:
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            while chunk := response.read1(65536):
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away
        finally:
            connection.close()

    def _send(self, port: int, body: bytes | None, headers: dict[str, str]
              ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse] | None:
        """The revision's answer (its status line and headers read), or None when it refused or dropped us."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=UPSTREAM_TIMEOUT_S)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            return connection, connection.getresponse()
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
            connection.close()
            return None

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward


class _IngressServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, choose: Chooser, rewrite: Rewrite) -> None:
        self.choose = choose
        self.rewrite = rewrite
        super().__init__(("127.0.0.1", port), _Forwarder)


class Ingress:
    """One app's ingress on `port`; `choose()` names the port of the revision that takes the next request."""

    def __init__(self, port: int, choose: Chooser, rewrite: Rewrite = lambda body: body) -> None:
        self._server = _IngressServer(port, choose, rewrite)
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"ingress-{port}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening (the port refuses connections afterwards)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
