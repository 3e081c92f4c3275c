"""/admin routes: swap the adapter version in place (POST) and say which version serves (GET).

They need `Authorization: Bearer <ADMIN_API_KEY>`, a key of their own: the /v1 API key does not open them.
Without ADMIN_API_KEY they answer 404 and never run.
"""

import asyncio
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from inference_container.adapter_swap import AdapterSwapper
from inference_container.errors import APIError
from inference_container.gate import GateSpec
from inference_container.openapi import error
from inference_container.openapi_requests import strict_body

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


async def require_admin_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """404 when the server has no admin key; 401 unless the request carries `Authorization: Bearer <it>`."""
    expected = request.app.state.settings.admin_api_key
    if expected is None:
        raise APIError(404, "The admin routes are disabled: this server has no ADMIN_API_KEY.",
                       code="admin_disabled")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(),
                                                               expected.get_secret_value().encode()):
        raise APIError(401, "Missing or invalid admin key: send 'Authorization: Bearer <ADMIN_API_KEY>'.",
                       code="invalid_admin_key")


admin = APIRouter(prefix="/admin", dependencies=[Depends(require_admin_key)], responses={
    401: error("Missing or wrong admin key (code invalid_admin_key): send `Authorization: Bearer <ADMIN_API_KEY>`."),
    404: error("The admin routes are disabled: the server has no ADMIN_API_KEY (code admin_disabled)."),
})


class AdapterSwapRequest(BaseModel):
    """Body of POST /admin/adapter."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(description="Model id of the new version (its folder name under the adapters share).")
    adapter_path: Path = Field(description="Absolute path of the peft adapter directory inside the container.")
    gate: GateSpec | None = None

    @field_validator("version")
    @classmethod
    def _version_name(cls, value: str) -> str:
        if not _VERSION.fullmatch(value) or value == "base":
            raise ValueError("a version is 1-128 letters, digits, '.', '_' or '-', starting with a letter or "
                             "digit, and not 'base'")
        return value

    @field_validator("adapter_path")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError("give the absolute path of the adapter directory inside the container")
        return value


def _swapper(request: Request) -> AdapterSwapper:
    swapper = request.app.state.swapper
    if swapper is None:
        raise APIError(503, "The model is still loading; retry when /ready answers 200.",
                       headers={"Retry-After": "5"})
    return swapper


Swapper = Annotated[AdapterSwapper, Depends(_swapper)]


@admin.get("/adapter", responses={503: error("The model is still loading; retry when /ready answers 200.",
                                              "always")})
async def adapter_status(swapper: Swapper) -> dict[str, Any]:
    """The version serving now, the alias that follows it, and the last swap's answer."""
    return swapper.status()


@admin.post("/adapter", dependencies=[Depends(strict_body(AdapterSwapRequest))], responses={
    400: error("The body is invalid (unknown field, bad version name, relative adapter_path)."),
    409: error("The gate failed (type gate_failed; `gate` holds the transcript; the old version serves again), "
               "another swap is in progress (swap_in_progress), or swapping is unsupported (swap_unsupported)."),
    422: error("The adapter could not be loaded (type adapter_load_failed); nothing changed."),
    503: error("Still loading (with Retry-After), or the running requests did not finish in time "
               "(type drain_timeout); nothing changed.", "sometimes"),
})
async def swap_adapter(body: AdapterSwapRequest, swapper: Swapper) -> dict[str, Any]:
    """Swap the served adapter version in place (see `adapter_swap.py`); the answer says how it went."""
    return await asyncio.to_thread(swapper.swap, body.version, body.adapter_path, body.gate)
