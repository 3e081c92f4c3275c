"""Request bodies as the server checks them, so that /openapi.json and the server agree.

`request_constraints` adds to the document what validators enforce beyond the field types (pydantic cannot say
it in JSON Schema); `strict_body` makes the server refuse what the document's types refuse (no `0` for a
boolean, no `"5"` for an integer), which pydantic's default lax mode would coerce and accept.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError


def request_constraints(schemas: dict[str, Any], model_ids: tuple[str, ...], max_model_len: int | None,
                        vocab_size: int | None, max_n: int | None = None) -> None:
    """Declare what validators and the serving code enforce (each rejection there is a 400, or 404 for a model)."""
    room = max_model_len - 1 if max_model_len else None  # a prompt has at least one token
    for name in ("ChatCompletionRequest", "CompletionRequest", "ResponsesRequest"):
        properties = schemas.get(name, {}).get("properties", {})
        if "model" in properties and model_ids:  # the ids served now (the document is made anew when they change)
            properties["model"]["enum"] = list(model_ids)
        for option in properties.get("seed", {}).get("anyOf", []):  # exact: as floats the bounds round up
            if option.get("type") == "integer":
                option.update(minimum=-(2**63), maximum=2**64 - 1)
        for option in properties.get("n", {}).get("anyOf", []) if max_n else []:  # sampling_params
            if option.get("type") == "integer":
                option["maximum"] = max_n
        for option in properties.get("logit_bias", {}).get("anyOf", []):  # ServingContext._logit_bias
            if option.get("type") == "object":
                option["additionalProperties"] = {"type": "number", "minimum": -100, "maximum": 100}
                if vocab_size:
                    option["propertyNames"] = {"pattern": f"^({_below(vocab_size)})$"}
        if "top_logprobs" in properties and "logprobs" in properties:  # ChatCompletionRequest.logprobs_problem
            schemas[name]["if"] = {"required": ["top_logprobs"],
                                   "properties": {"top_logprobs": {"type": "integer"}}}
            schemas[name]["then"] = {"required": ["logprobs"], "properties": {"logprobs": {"const": True}}}
    prompt = schemas.get("CompletionRequest", {}).get("properties", {}).get("prompt")
    if prompt is not None:  # CompletionRequest._one_prompt; an empty text has no tokens; ids index the vocabulary
        token: dict[str, Any] = {"type": "integer", "minimum": 0}
        if vocab_size:
            token["maximum"] = vocab_size - 1
        ids: dict[str, Any] = {"type": "array", "items": token, "minItems": 1}
        if room:
            ids["maxItems"] = room
        text = {"type": "string", "minLength": 1}
        prompt["anyOf"] = [text, {"type": "array", "items": text, "minItems": 1, "maxItems": 1}, ids]
    gate_prompt = schemas.get("GatePrompt")
    if gate_prompt is not None:  # gate.GatePrompt._one_prompt: exactly one of them, not null
        gate_prompt["oneOf"] = [{"required": ["messages"], "properties": {"messages": {"type": "array"}}},
                                {"required": ["prompt"], "properties": {"prompt": {"type": "string"}}}]
    swap = schemas.get("AdapterSwapRequest", {}).get("properties", {})
    if "version" in swap:  # admin_router.AdapterSwapRequest's validators
        swap["version"].update({"pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", "not": {"const": "base"}})
    if "adapter_path" in swap:
        swap["adapter_path"]["pattern"] = "^/"


def _below(limit: int) -> str:
    """A regular expression for the decimal numbers 0 to limit - 1 (no sign, no leading zero)."""
    top = str(limit - 1)
    options = ["0"] if limit > 0 else []
    if len(top) > 1:  # every number with fewer digits
        options.append(f"[1-9][0-9]{{0,{len(top) - 2}}}")
    for i, digit in enumerate(top):  # same length: equal up to i, smaller digit at i, anything after
        low = "1" if i == 0 else "0"
        if int(digit) > int(low):
            options.append(f"{top[:i]}[{low}-{int(digit) - 1}][0-9]{{{len(top) - i - 1}}}")
    if top != "0":
        options.append(top)
    return "|".join(options)


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def strict_body(model: type[BaseModel]) -> Callable[[Request], Awaitable[None]]:
    """A dependency: 400 for a body that `model` accepts only by coercing a value of another JSON type."""

    async def check(request: Request) -> None:
        raw = await request.body()
        try:
            model.model_validate_json(raw)
        except ValidationError:
            return  # FastAPI's own validation reports it, as before
        # JSON Schema counts 2.0 as an integer: pass integral numbers as integers, then check strictly
        body = json.dumps(json.loads(raw, parse_float=_number))
        try:
            model.model_validate_json(body, strict=True)
        except ValidationError as exc:
            errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
            raise RequestValidationError(errors) from None

    return check
