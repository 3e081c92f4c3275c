"""What /openapi.json says beyond what FastAPI infers from the routes.

The routes declare their answers with `responses=` built here (one error model, headers such as Retry-After,
server-sent events beside JSON). `install` finishes the document once per app: bearer security schemes in place
of the raw `authorization` header parameter (per the app's settings: a route that needs no key declares none),
the `x-adapter-version` header every /v1 answer carries, the stream chunk schemas, and no FastAPI 422
"validation error" where validation errors are answered 400 (errors.py).
"""

from typing import Any, Literal, NamedTuple

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from inference_container.engine.types import MAX_N
from inference_container.errors import ErrorResponse
from inference_container.openapi_requests import request_constraints

EVENT_STREAM = "text/event-stream"
_COMPONENTS = "#/components/schemas/{model}"
_API_KEY_SCHEME, _ADMIN_KEY_SCHEME = "apiKey", "adminKey"

_RETRY_AFTER = {"description": "Seconds to wait before retrying.", "required": True,
                "schema": {"type": "integer", "minimum": 0}}
_VERSION = {"description": "The adapter version that answered (`base` for the base model).", "required": True,
            "schema": {"type": "string"}}


def error(description: str, retry_after: Literal["always", "sometimes"] | None = None) -> dict[str, Any]:
    """One error answer: `ErrorResponse` as JSON, with a Retry-After header `always` or `sometimes`."""
    declared: dict[str, Any] = {"model": ErrorResponse, "description": description}
    if retry_after is not None:
        declared["headers"] = {"Retry-After": {**_RETRY_AFTER, "required": retry_after == "always"}}
    return declared


def streamed_or_whole(whole: type[BaseModel], chunk: type[BaseModel]) -> dict[str, Any]:
    """The 200 of a route that answers `whole` as JSON, or with `stream: true` a stream of `chunk` events.

    Each event's `data` is one chunk as JSON, the last one the text `[DONE]` (OpenAPI 3.1: the event-stream
    `schema` describes one event).
    """
    data = {"type": "string", "anyOf": [
        {"const": "[DONE]"},
        {"contentMediaType": "application/json", "contentSchema": {"$ref": _COMPONENTS.format(model=chunk.__name__)}},
    ]}
    event = {"type": "object", "required": ["data"], "properties": {"data": data},
             "description": f"One server-sent event: `data: <{chunk.__name__} as JSON>`, and last `data: [DONE]`."}
    return {"model": whole, "description": f"{whole.__name__} as JSON; with `stream: true` server-sent events.",
            "content": {EVENT_STREAM: {"schema": event}}, "x-stream-chunk": chunk.__name__}


def install(app: FastAPI) -> None:
    """Serve the finished document, made again when what it names changes (model ids, context, vocabulary)."""
    made: dict[tuple[Any, ...], dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        state = app.state
        facts = Facts(state.settings.api_key is not None, state.settings.admin_api_key is not None,
                      tuple(state.models.names()), state.max_model_len, getattr(state, "vocab_size", None),
                      min(MAX_N, state.settings.max_batch_size))
        if facts not in made:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            made.clear()
            made[facts] = finish(document, facts)
        app.openapi_schema = made[facts]
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class Facts(NamedTuple):
    """What the document depends on besides the routes."""

    api_key: bool
    admin_key: bool
    model_ids: tuple[str, ...]
    max_model_len: int | None = None
    vocab_size: int | None = None
    max_n: int | None = None


def finish(document: dict[str, Any], facts: Facts) -> dict[str, Any]:
    """The document with security schemes, version headers, chunk schemas and without FastAPI's 422s."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemes = {}
    if facts.api_key:
        schemes[_API_KEY_SCHEME] = {"type": "http", "scheme": "bearer",
                                    "description": "The server's API_KEY, for /v1 (only when API_KEY is set)."}
    if facts.admin_key:
        schemes[_ADMIN_KEY_SCHEME] = {"type": "http", "scheme": "bearer",
                                      "description": "The server's ADMIN_API_KEY, for /admin (a key of its own)."}
    if schemes:
        components["securitySchemes"] = schemes
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            _finish_operation(path, operation, schemas, facts.api_key, facts.admin_key)
    _add_models(schemas)
    request_constraints(schemas, facts.model_ids, facts.max_model_len, facts.vocab_size, facts.max_n)
    if not _uses(document, "HTTPValidationError"):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def _finish_operation(path: str, operation: dict[str, Any], schemas: dict[str, Any], api_key: bool,
                      admin_key: bool) -> None:
    parameters = operation.get("parameters", [])
    had_auth_header = any(p.get("in") == "header" and p.get("name", "").lower() == "authorization"
                          for p in parameters)
    kept = [p for p in parameters if not (p.get("in") == "header" and p.get("name", "").lower() == "authorization")]
    if kept:
        operation["parameters"] = kept
    else:
        operation.pop("parameters", None)
    if had_auth_header:
        scheme = _ADMIN_KEY_SCHEME if path.startswith("/admin") else _API_KEY_SCHEME
        responses = operation.get("responses", {})
        if admin_key if scheme == _ADMIN_KEY_SCHEME else api_key:
            operation["security"] = [{scheme: []}]
        else:  # no key configured: nothing is checked, no 401
            responses.pop("401", None)
    responses = operation.get("responses", {})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if validation.get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    for answer in responses.values():
        chunk = answer.pop("x-stream-chunk", None)
        if chunk is not None:
            schemas.setdefault(chunk, {})  # filled by _add_models
        if path.startswith("/v1"):
            answer.setdefault("headers", {})["x-adapter-version"] = _VERSION


def _add_models(schemas: dict[str, Any]) -> None:
    """Fill the placeholders of stream chunk models (and what they use) with their JSON schemas."""
    from inference_container import protocol

    wanted = [getattr(protocol, name) for name, schema in schemas.items() if not schema and hasattr(protocol, name)]
    if not wanted:
        return
    _, defs = models_json_schema([(model, "serialization") for model in wanted], ref_template=_COMPONENTS)
    for name, schema in defs.get("$defs", {}).items():
        if not schemas.get(name):
            schemas[name] = schema


def _uses(node: Any, name: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref", "").endswith(f"/{name}") or any(_uses(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_uses(v, name) for v in node)
    return False
