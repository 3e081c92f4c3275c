"""What every simulated ARM reply carries: JSON, request ids, and errors in ARM's CloudError shape."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.simulators.https_server import Request, Response
from tests.simulators.identity import TokenRegistry

API_VERSION = "2026-07-01"
PROVIDER = "Microsoft.App"


class ArmError(Exception):
    """A request the simulated service refuses: HTTP status, ARM error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def now() -> str:
    """The current time as ARM writes it (RFC 3339, UTC)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def json_reply(status: int, operation: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    """A JSON reply (no body when `body` is None) with ARM's request-id headers."""
    request_id = str(uuid.uuid4())
    base = {"x-ms-request-id": request_id, "x-ms-correlation-request-id": request_id}
    if body is not None:
        base["Content-Type"] = "application/json; charset=utf-8"
    content = b"" if body is None else json.dumps(body).encode()
    return Response(status, {**base, **(headers or {})}, content, operation)


def error_reply(status: int, code: str, message: str) -> Response:
    """An ARM CloudError reply; logged as its code."""
    return json_reply(status, code, {"error": {"code": code, "message": message}})


def not_found(kind: str, name: str, resource_group: str) -> ArmError:
    """ARM's 404 for a missing resource."""
    message = f"The Resource '{PROVIDER}/{kind}/{name}' under resource group '{resource_group}' was not found."
    return ArmError(404, "ResourceNotFound", message)


def authorize(tokens: TokenRegistry, request: Request, audience: str) -> None:
    """401 without a valid bearer token for `audience` from the registry (the token is never echoed)."""
    scheme, _, token = (request.header("Authorization") or "").partition(" ")
    if not token:
        raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    if scheme.lower() != "bearer":
        raise ArmError(401, "AuthenticationFailed", "Authentication failed: only Bearer tokens are accepted.")
    if reason := tokens.rejection(token, audience):
        code = "ExpiredAuthenticationToken" if "expired" in reason else "InvalidAuthenticationToken"
        raise ArmError(401, code, reason)
