"""The request bodies the SDK's generated models (azure-mgmt-appcontainers 5.1.0, api-version 2026-07-01) define.

The hybrid models declare each JSON property as a class attribute made by `rest_field(name=..., visibility=...)` with
a type annotation; this walks a body along those declarations. A property no model declares is refused (the SDK
cannot have sent it, so the caller built the body by hand, wrongly); read-only properties (visibility ["read"], such
as provisioningState or ingress.fqdn, present in a GET→PUT round trip) are dropped, as ARM ignores them.
"""

import types
import typing
from functools import cache
from typing import Any

from azure.mgmt.appcontainers import models
from azure.mgmt.appcontainers._utils.model_base import Model as GeneratedModel


@cache
def fields_of(model: type) -> dict[str, tuple[Any, bool]]:
    """{JSON name: (annotation, read-only)} of a generated model, inherited fields included."""
    hints = typing.get_type_hints(model, localns={"_models": models})
    found: dict[str, tuple[Any, bool]] = {}
    for klass in reversed(model.__mro__):
        for attribute, field in vars(klass).items():
            if attribute.startswith("_") or not hasattr(field, "_rest_name_input"):
                continue
            name = field._rest_name_input or attribute
            found[name] = (hints.get(attribute), field._visibility == ["read"])
    return found


def _single_type(annotation: Any) -> Any:
    """Optional[X] as X; a union of several non-None types (str or an enum) stays as it is."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(annotation) if option is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation


def writable(document: Any, annotation: Any, path: str, unknown: list[str]) -> Any:
    """`document` without read-only properties; the paths of undeclared properties are appended to `unknown`."""
    annotation = _single_type(annotation)
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, GeneratedModel) and isinstance(document, dict):
        fields = fields_of(annotation)
        kept: dict[str, Any] = {}
        for name, value in document.items():
            where = f"{path}.{name}" if path else name
            if name not in fields:
                unknown.append(where)
            elif not fields[name][1]:
                kept[name] = writable(value, fields[name][0], where, unknown)
        return kept
    if origin is list and isinstance(document, list):
        return [writable(item, arguments[0], f"{path}[{index}]", unknown) for index, item in enumerate(document)]
    if origin is dict and isinstance(document, dict):
        return {key: writable(value, arguments[1], f"{path}.{key}", unknown) for key, value in document.items()}
    return document


def writable_document(document: Any, model: type) -> tuple[dict[str, Any], list[str]]:
    """A resource body's writable properties per `model`, and the properties no model declares."""
    unknown: list[str] = []
    if not isinstance(document, dict):
        return {}, ["(the body is not a JSON object)"]
    return writable(document, model, "", unknown), unknown


def writable_app(document: Any) -> tuple[dict[str, Any], list[str]]:
    """A ContainerApp body's writable properties, and the properties no model declares."""
    return writable_document(document, models.ContainerApp)
