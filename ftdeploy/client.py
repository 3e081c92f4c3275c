"""The service's HTTP API over httpx: the function key in a header, every failure turned into a CliError.

The function key travels only in the `x-functions-key` header (never in a URL), so no URL this client builds, and
no error it raises, holds it.
"""

from dataclasses import dataclass
from typing import Any

import httpx

from ftdeploy.errors import CliError, Exit

HTTP_TIMEOUT_S = 30.0
"""How long one request waits for an answer (a busy host, or a preflight reading an Azure share, can be slow)."""
QUOTED_BODY_CHARS = 300


@dataclass(frozen=True)
class Answer:
    """A successful answer: its status code and its JSON body (None when it had none)."""

    status: int
    body: Any


class ApiError(CliError):
    """The service answered 4xx (exit 2) or 5xx (exit 4); `message` is the API's own, `fields` its field list."""

    def __init__(self, status: int, message: str, body: Any) -> None:
        super().__init__(message, Exit.USAGE if status < 500 else Exit.SERVER_ERROR)
        self.status = status
        self.body = body
        error = body.get("error") if isinstance(body, dict) else None
        self.fields: list[dict[str, str]] = list(error.get("fields") or []) if isinstance(error, dict) else []
        self.instance_id: str | None = error.get("instanceId") if isinstance(error, dict) else None


def api_message(body: Any, text: str) -> str | None:
    """The message of the API's error shape {"error": {"message": ...}}, or of the host's {"error": "..."}."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    stripped = text.strip()
    if not stripped:
        return None
    return stripped if len(stripped) <= QUOTED_BODY_CHARS else stripped[:QUOTED_BODY_CHARS] + "…"


def is_route_missing(status: int, body: Any) -> bool:
    """A 404 from the host itself (no such route) rather than from a route (no such instance or app)."""
    error = body.get("error") if isinstance(body, dict) else None
    return status == 404 and not isinstance(error, dict)


def _json_or_none(reply: httpx.Response) -> Any:
    try:
        return reply.json() if reply.content.strip() else None
    except ValueError:
        return None


class ServiceClient:
    """Calls the routes under /api of one service (base URL) with one function key."""

    def __init__(self, base_url: str, key: str | None, timeout: float = HTTP_TIMEOUT_S,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.has_key = bool(key)
        headers = {"x-functions-key": key} if key else {}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def status_url(self, instance_id: str) -> str:
        """Where an orchestration's status is read (no key in it: send the key as a header)."""
        return f"{self.base_url}/api/status/{instance_id}"

    def get(self, path: str) -> Answer:
        """GET /api/<path>."""
        return self._send("GET", path)

    def post(self, path: str, body: dict[str, Any] | None = None, *, content: bytes | None = None,
             headers: dict[str, str] | None = None) -> Answer:
        """POST a JSON body (or bytes as they are, for a signed webhook) to /api/<path>."""
        return self._send("POST", path, body=body, content=content, headers=headers)

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None, content: bytes | None = None,
              headers: dict[str, str] | None = None) -> Answer:
        route = f"/api/{path.lstrip('/')}"
        try:
            reply = self.http.request(method, route, json=body, content=content, headers=headers)
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise CliError(f"cannot reach the service at {self.base_url} ({reason}): is it running? (`make serve` "
                           "starts it locally; --url or FTDEPLOY_URL says where it is)", Exit.UNREACHABLE) from None
        parsed = _json_or_none(reply)
        if reply.status_code >= 400:
            raise ApiError(reply.status_code, self._explain(method, route, reply.status_code, parsed, reply.text),
                           parsed)
        return Answer(reply.status_code, parsed)

    def _explain(self, method: str, route: str, status: int, body: Any, text: str) -> str:
        if status == 401:
            how = "check --key or FTDEPLOY_KEY" if self.has_key else "pass --key or set FTDEPLOY_KEY"
            return f"the service refused the request (401: a valid function key is required): {how}"
        if is_route_missing(status, body):
            return (f"{method} {route}: the service at {self.base_url} has no such route (404); "
                    "it may be older than this client")
        message = api_message(body, text) or "no message"
        return f"{method} {route} answered {status}: {message}"
