"""Binding a deployment's parameters to the template's declarations, with ARM's pre-deployment checks.

The request's `properties.parameters` is {name: {"value": ...}}; a name the template does not declare, a required
parameter with no value, a value of the wrong type (`"value": null` included: ARM accepts no null for a typed
parameter, so a null in a parameters file must be dropped before sending to let the default apply), a value outside
allowedValues or min/max bounds is a 400 InvalidTemplate before anything starts. Key Vault references and expressions
as parameter values are not simulated. secureString/secureObject values never appear in the deployment's GET.
"""

from collections.abc import Mapping
from typing import Any

from tests.simulators.arm.template_engine import Evaluator, TemplateError, type_name

TYPES = {"string": "String", "securestring": "SecureString", "int": "Int", "bool": "Bool", "array": "Array",
         "object": "Object", "secureobject": "SecureObject"}
EXPECTED = {"String": ("String", "String, Uri"), "SecureString": ("String", "String, Uri"),
            "Int": ("Integer", "Integer"), "Bool": ("Boolean", "Boolean"), "Array": ("Array", "Array"),
            "Object": ("Object", "Object"),
            "SecureObject": ("Object", "Object")}
SECURE = ("SecureString", "SecureObject")
HELP = "Please see https://aka.ms/arm-create-parameter-file for usage details."


def invalid(message: str) -> TemplateError:
    """ARM's pre-deployment refusal."""
    return TemplateError("InvalidTemplate", f"Deployment template validation failed: '{message}'.")


def request_values(template: Mapping[str, Any], parameters: Any) -> dict[str, Any]:
    """{declared name: value} from the request's parameters object."""
    declared = {name.lower(): name for name in template.get("parameters") or {}}
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise TemplateError("InvalidRequestContent", "properties.parameters must be an object of {name: {value}}.")
    unknown = [name for name in parameters if name.lower() not in declared]
    if unknown:
        raise invalid(f"The template parameters '{', '.join(unknown)}' in the parameters file are not valid; they "
                      "are not present in the original template and can therefore not be provided at deployment "
                      f"time. The only supported parameters for this template are '{', '.join(declared.values())}'. "
                      f"{HELP}")
    values: dict[str, Any] = {}
    for name, entry in parameters.items():
        if not isinstance(entry, Mapping) or set(entry) - {"value"}:
            kind = ", ".join(sorted(entry)) if isinstance(entry, Mapping) else type_name(entry)
            raise TemplateError("NotSimulated", f"Parameter '{name}': only a value is simulated, not {kind}.")
        if "value" not in entry:
            raise invalid(f"The value for the template parameter '{name}' is not provided. {HELP}")
        values[declared[name.lower()]] = entry["value"]
    return values


def declared_type(name: str, declaration: Mapping[str, Any]) -> str:
    """The declaration's type, canonical ("String", "SecureString", ...)."""
    kind = TYPES.get(str(declaration.get("type", "")).lower())
    if kind is None:
        raise invalid(f"The template parameter '{name}' has type '{declaration.get('type')}', which is not valid")
    return kind


def check_value(name: str, declaration: Mapping[str, Any], value: Any) -> None:
    """400 for a value of the wrong type or outside the declaration's bounds (messages never show the value)."""
    kind = declared_type(name, declaration)
    actual, expected = type_name(value), EXPECTED[kind]
    if actual != expected[0]:
        raise invalid(f"The provided value for the template parameter '{name}' is not valid. Expected a value of "
                      f"type '{expected[1]}', but received a value of type '{actual}'. {HELP}")
    allowed = declaration.get("allowedValues")
    if allowed is not None:
        items = value if isinstance(value, list) else [value]
        if outside := [item for item in items if item not in allowed]:
            shown = "" if kind in SECURE else f" '{', '.join(str(item) for item in outside)}'"
            raise invalid(f"The provided value{shown} for the template parameter '{name}' is not valid. The "
                          f"parameter value is not part of the allowed value(s): '{','.join(map(str, allowed))}'")
    if kind == "Int":
        if "minValue" in declaration and value < declaration["minValue"]:
            raise invalid(f"The provided value for the template parameter '{name}' is not valid. The value must be "
                          f"at least {declaration['minValue']}")
        if "maxValue" in declaration and value > declaration["maxValue"]:
            raise invalid(f"The provided value for the template parameter '{name}' is not valid. The value must be "
                          f"at most {declaration['maxValue']}")


class Parameters:
    """The template's parameters: request values first, else defaults (evaluated on first use), each checked."""

    def __init__(self, template: Mapping[str, Any], values: dict[str, Any]) -> None:
        self.declarations = {name.lower(): (name, body) for name, body in (template.get("parameters") or {}).items()}
        self.values = {name.lower(): value for name, value in values.items()}
        self.evaluator: Evaluator | None = None
        self._bound: dict[str, Any] = {}

    def __call__(self, name: str) -> Any:
        """parameters(name)."""
        key = name.lower()
        if key in self._bound:
            return self._bound[key]
        if key not in self.declarations:
            raise TemplateError("InvalidTemplate", f"The template parameter '{name}' is not found.")
        declared, declaration = self.declarations[key]
        if key in self.values:
            value = self.values[key]
        elif "defaultValue" in declaration and self.evaluator is not None:
            value = self.evaluator.value(declaration["defaultValue"])
        else:
            raise invalid(f"The value for the template parameter '{declared}' is not provided. {HELP}")
        check_value(declared, declaration, value)
        self._bound[key] = value
        return value

    def bind_all(self) -> None:
        """Evaluate and check every parameter (what ARM validates before a deployment starts)."""
        for name, _ in self.declarations.values():
            self(name)

    def shown(self) -> dict[str, dict[str, Any]]:
        """properties.parameters of the deployment's GET: {name: {type, value}}, secure values left out."""
        shown: dict[str, dict[str, Any]] = {}
        for key, value in self._bound.items():
            name, declaration = self.declarations[key]
            kind = declared_type(name, declaration)
            shown[name] = {"type": kind} if kind in SECURE else {"type": kind, "value": value}
        return shown
