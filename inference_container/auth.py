"""Bearer-key check for /v1 routes."""

import secrets
from typing import Annotated

from fastapi import Header, Request

from inference_container.errors import APIError


async def require_api_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """401 unless the server has no key or the request carries `Authorization: Bearer <key>`."""
    expected = request.app.state.settings.api_key
    if expected is None:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(),
                                                               expected.get_secret_value().encode()):
        raise APIError(401, "Missing or invalid API key: send 'Authorization: Bearer <key>'.",
                       code="invalid_api_key")
