"""The app's stable endpoint: an HTTP front on the public port that forwards each request to the serving server.

The supervisor runs the inference servers on private loopback ports; this front owns the port users call. It
reads each request's head, picks the backend at that moment, and forwards the request with `Connection: close`,
so every request (not every client connection) picks a backend: after `switch`, every new request goes to the new
server while requests already forwarded (streams included) finish on the old one, whose in-flight count tells the
supervisor when it may stop it. Without a backend (nothing started yet, or one not listening) it answers 503.
"""

import asyncio
import json
import socket
import threading
from collections import Counter
from concurrent.futures import Future

LOOPBACK = "127.0.0.1"
HEAD_LIMIT = 64 * 1024
HEAD_TIMEOUT_S = 120.0
CHUNK = 64 * 1024
HOP_BY_HOP = (b"connection", b"keep-alive", b"proxy-connection")


def close_after(head: bytes) -> bytes:
    """The request head with its hop-by-hop connection headers replaced by `Connection: close`."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    kept = [lines[0]] + [line for line in lines[1:] if line.split(b":", 1)[0].strip().lower() not in HOP_BY_HOP]
    return b"\r\n".join([*kept, b"Connection: close", b"", b""])


def unavailable(message: str) -> bytes:
    """A complete 503 answer in the server's error shape."""
    body = json.dumps({"error": {"message": message, "type": "unavailable"}}).encode()
    head = (f"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "retry-after: 1\r\nconnection: close\r\n\r\n").encode()
    return head + body


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes until the reader ends, flushing each chunk (streams reach the client as they are written)."""
    while chunk := await reader.read(CHUNK):
        writer.write(chunk)
        await writer.drain()


class FrontProxy:
    """Listens on the public port in its own thread; `switch` changes the backend for every later request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.backend: int | None = None
        self.inflight: Counter[int] = Counter()
        self.loop = asyncio.new_event_loop()
        self.listener = socket.create_server((LOOPBACK, port))
        self.thread = threading.Thread(target=self._serve, name=f"front-{port}", daemon=True)
        self.stopped = asyncio.Event()

    def start(self) -> None:
        """Serve in the background (the port is already bound, so a taken port fails in the constructor)."""
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        server = await asyncio.start_server(self._handle, sock=self.listener, limit=HEAD_LIMIT)
        async with server:
            await self.stopped.wait()

    def _in_loop(self, action: "Future[None]", backend: int | None) -> None:
        self.backend = backend
        action.set_result(None)

    def switch(self, backend: int | None) -> None:
        """Send every request whose head arrives from now on to `backend` (None: answer 503); returns once done.

        Done on the proxy's own loop, where a request picks its backend and counts itself in flight in one step, so
        once this returns no request can still be on its way to the previous backend uncounted.
        """
        if not self.thread.is_alive():
            self.backend = backend
            return
        done: Future[None] = Future()
        self.loop.call_soon_threadsafe(self._in_loop, done, backend)
        done.result(timeout=10)

    def busy(self, backend: int) -> int:
        """Requests forwarded to `backend` that have not ended yet."""
        return self.inflight[backend]

    def stop(self) -> None:
        """Stop listening and end the thread (requests in flight are cut)."""
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stopped.set)
            self.thread.join(timeout=10)
        self.listener.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        backend = self.backend
        if backend is None:
            await self._answer(writer, unavailable("the app has no running server yet; retry shortly"))
            return
        self.inflight[backend] += 1
        try:
            await self._forward(head, backend, reader, writer)
        finally:
            self.inflight[backend] -= 1

    async def _answer(self, writer: asyncio.StreamWriter, answer: bytes) -> None:
        try:
            writer.write(answer)
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    async def _forward(self, head: bytes, backend: int, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection(LOOPBACK, backend)
        except OSError:
            await self._answer(writer, unavailable("the app's server is not listening (starting or restarting)"))
            return
        upload = asyncio.create_task(self._upload(head, reader, upstream))
        try:
            await pipe(upstream_reader, writer)
        except ConnectionError:
            pass  # the client went away: closing upstream below cancels its request on the server
        finally:
            upload.cancel()
            upstream.close()
            writer.close()

    async def _upload(self, head: bytes, reader: asyncio.StreamReader, upstream: asyncio.StreamWriter) -> None:
        try:
            upstream.write(close_after(head))
            await upstream.drain()
            await pipe(reader, upstream)
        except ConnectionError:
            pass
