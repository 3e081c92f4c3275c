"""Function keys: `?code=KEY` or header `x-functions-key: KEY`, compared in constant time."""

from __future__ import annotations

import secrets

from starlette.requests import Request

OPEN_AUTH_LEVELS = {"anonymous"}


def presented_key(request: Request) -> str | None:
    """The key a request carries, if any."""
    return request.headers.get("x-functions-key") or request.query_params.get("code")


def is_authorized(request: Request, configured_key: str | None, auth_level: str = "function") -> bool:
    """Whether the request may call something at this auth level (no key configured: everything is open)."""
    if configured_key is None or auth_level.lower() in OPEN_AUTH_LEVELS:
        return True
    given = presented_key(request)
    return given is not None and secrets.compare_digest(given.encode(), configured_key.encode())
