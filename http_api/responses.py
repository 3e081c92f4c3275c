"""JSON responses and request-body validation shared by the HTTP triggers.

Every error answers one shape, built by `error_response` only: {"error": {"message": ..., <extra data>}}.
"""

import json
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

Body = TypeVar("Body", bound=BaseModel)


class BadRequest(Exception):
    """The request cannot be served as sent; carries the 400 response body."""

    def __init__(self, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []

    @classmethod
    def naming(cls, lead: str, fields: list[dict[str, str]]) -> "BadRequest":
        """A 400 whose message lists every field's problem after `lead`."""
        summary = "; ".join(f"{item['field']}: {item['message']}" for item in fields)
        return cls(f"{lead}: {summary}", fields)


def json_response(payload: Any, status_code: int = 200) -> func.HttpResponse:
    """A JSON HTTP response."""
    return func.HttpResponse(json.dumps(payload, default=str), status_code=status_code, mimetype="application/json")


def error_response(status_code: int, message: str, **details: Any) -> func.HttpResponse:
    """An error answer: {"error": {"message": message, **details}} with `status_code`."""
    return json_response({"error": {"message": message, **details}}, status_code=status_code)


def bad_request(error: BadRequest) -> func.HttpResponse:
    """400 with a body that says what was wrong, field by field."""
    return error_response(400, error.message, fields=error.fields)


def _field_errors(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in item["loc"]) or "body", "message": item["msg"]}
        for item in error.errors(include_url=False)
    ]


def parse_body(req: func.HttpRequest, model: type[Body]) -> Body:
    """Validate the JSON body (an empty body means all defaults) or raise BadRequest naming each field."""
    raw = req.get_body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequest(f"request body is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequest.naming("invalid request body", _field_errors(error)) from error
