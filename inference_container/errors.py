"""One OpenAI-shaped error response, and the handlers that route every failure through it."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger(__name__)

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          429: "rate_limit_error", 503: "service_unavailable_error"}


class ErrorDetail(BaseModel):
    """What went wrong, as OpenAI's clients read it."""

    message: str = Field(description="A sentence for people: what was wrong and what to do.")
    type: str = Field(description="The kind of error, e.g. invalid_request_error, authentication_error.")
    param: str | None = Field(description="The request field at fault, when one is.")
    code: str | None = Field(description="A stable code for programs, e.g. context_length_exceeded.")


class ErrorResponse(BaseModel):
    """The body of every error answer (`create_error_response`); some carry fields beside `error`."""

    model_config = ConfigDict(extra="allow")

    error: ErrorDetail


class APIError(Exception):
    """An error a client caused or must know about, rendered in OpenAI's shape."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None, err_type: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.headers, self.err_type, self.extra = headers, err_type, extra


def error_body(status: int, message: str, param: str | None = None, code: str | None = None,
               err_type: str | None = None) -> dict:
    """The `{"error": {...}}` payload OpenAI clients parse; `err_type` overrides the type the status implies."""
    err_type = err_type or _TYPES.get(status, "invalid_request_error" if status < 500 else "internal_error")
    return {"error": {"message": message, "type": err_type, "param": param, "code": code}}


def create_error_response(status: int, message: str, param: str | None = None, code: str | None = None,
                          headers: dict[str, str] | None = None, err_type: str | None = None,
                          extra: dict[str, Any] | None = None) -> JSONResponse:
    """The one way this server answers with an error (`extra`: fields beside `error`, e.g. a gate transcript)."""
    body = {**error_body(status, message, param, code, err_type), **(extra or {})}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    if first.get("type") == "json_invalid":  # a json.JSONDecodeError, as FastAPI reports it: loc = ("body", offset)
        where = f" at character {loc[0]}" if loc else ""
        reason = first.get("ctx", {}).get("error") or first.get("msg", "")
        return f"Request body is not valid JSON{where}: {reason}. Send one JSON object.", None
    param = ".".join(loc) or None
    return f"Invalid value for '{param or 'body'}': {first.get('msg', 'invalid request')}", param


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, param = _validation_message(exc)
    return create_error_response(400, message, param=param)


async def _on_api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return create_error_response(exc.status, exc.message, exc.param, exc.code, exc.headers, exc.err_type, exc.extra)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:  # Starlette names the first route's methods; a path may have one route per method
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return create_error_response(exc.status_code, str(exc.detail), headers=headers or None)


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (asked of the app's router with a fresh scope per method)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        scope = {"type": "http", "path": request.scope["path"], "root_path": request.scope.get("root_path", ""),
                 "method": method, "headers": []}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error: %s", type(exc).__name__)
    return create_error_response(500, "The server failed to handle the request; see its logs.")


def install_error_handlers(app: FastAPI) -> None:
    """Make validation errors (bad JSON among them), HTTP errors and APIError answer in OpenAI's shape."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(APIError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
