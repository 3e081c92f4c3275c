"""JSON responses and request-body validation shared by the HTTP triggers.

Every error answers one shape, built by `error_response` only: {"error": {"message": ..., <extra data>}}.
A body is refused before it is parsed when it is too large (413) or not JSON by its Content-Type (415); a
missing Content-Type is read as JSON (clients such as the SDKs' raw posts send none). Messages quote at most a
bounded prefix of anything the user sent.
"""

import json
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from payloads.requests import quoted

Body = TypeVar("Body", bound=BaseModel)

MAX_BODY_BYTES = 1 << 20
"""The largest request body read (1 MiB): request bodies here are a few hundred bytes."""


class BadRequest(Exception):
    """The request cannot be served as sent; carries the error response's status and body."""

    status_code = 400

    def __init__(self, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []

    @classmethod
    def naming(cls, lead: str, fields: list[dict[str, str]]) -> "BadRequest":
        """A 400 whose message lists every field's problem after `lead`."""
        summary = "; ".join(f"{item['field']}: {item['message']}" for item in fields)
        return cls(f"{lead}: {summary}", fields)


class BodyTooLarge(BadRequest):
    """413: the body is larger than MAX_BODY_BYTES."""

    status_code = 413


class NotJson(BadRequest):
    """415: the Content-Type says the body is something other than JSON."""

    status_code = 415


def json_response(payload: Any, status_code: int = 200) -> func.HttpResponse:
    """A JSON HTTP response."""
    return func.HttpResponse(json.dumps(payload, default=str), status_code=status_code, mimetype="application/json")


def error_response(status_code: int, message: str, **details: Any) -> func.HttpResponse:
    """An error answer: {"error": {"message": message, **details}} with `status_code`."""
    return json_response({"error": {"message": message, **details}}, status_code=status_code)


def refused(error: BadRequest) -> func.HttpResponse:
    """The error's status (400, 413, 415) with a body that says what was wrong, field by field."""
    return error_response(error.status_code, error.message, fields=error.fields)


def _field_name(location: tuple[int | str, ...]) -> str:
    name = ".".join(str(part) for part in location) or "body"
    return name if len(name) <= 80 else quoted(name)  # an unknown field's name is user input too


def _field_errors(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": _field_name(item["loc"]), "message": item["msg"]}
        for item in error.errors(include_url=False, include_input=False)
    ]


def is_json_media_type(content_type: str) -> bool:
    """application/json or a +json type (application/merge-patch+json), any parameters such as charset."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _check_envelope(req: func.HttpRequest, raw: bytes) -> None:
    declared = req.headers.get("content-length", "")
    if len(raw) > MAX_BODY_BYTES or (declared.isdigit() and int(declared) > MAX_BODY_BYTES):
        raise BodyTooLarge(f"request body is larger than {MAX_BODY_BYTES} bytes; bodies here are small JSON objects")
    content_type = req.headers.get("content-type")
    if raw.strip() and content_type and not is_json_media_type(content_type):
        raise NotJson(f"request body must be JSON: send Content-Type: application/json (got {quoted(content_type)})")


def parse_body(req: func.HttpRequest, model: type[Body]) -> Body:
    """Validate the JSON body (an empty body means all defaults) or raise BadRequest naming each field."""
    raw = req.get_body()
    _check_envelope(req, raw)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError as error:  # not JSON, not UTF-8, or a number past Python's digit limit
        raise BadRequest(f"request body is not valid JSON: {error}") from error
    except RecursionError as error:
        reason = "JSON nested too deeply; send a flat JSON object"
        raise BadRequest(f"request body is not accepted: {reason}", [{"field": "body", "message": reason}]) from error
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequest.naming("invalid request body", _field_errors(error)) from error
