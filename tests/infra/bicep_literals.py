"""Bicep literal values and what decorators say: strings, numbers, lists; @allowed, @description; ARM declarations."""

import re

from tests.infra.bicep_reader import Param


def bicep_string(literal: str) -> str | None:
    """The value of a Bicep string literal without interpolation ('it\\'s' -> it's), else None."""
    literal = literal.strip()
    if len(literal) < 2 or literal[0] != "'" or literal[-1] != "'" or "${" in literal:
        return None
    body = literal[1:-1]
    if re.search(r"(?<!\\)'", body):
        return None
    return body.replace("\\'", "'").replace("\\\\", "\\")


def bicep_literal(text: str) -> object:
    """A Bicep literal (string, int, bool, [] of literals, {}) as a Python value; raises ValueError otherwise."""
    text = text.strip()
    if (value := bicep_string(text)) is not None:
        return value
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    if text == "{}":
        return {}
    if text.startswith("[") and text.endswith("]"):
        items = [line.strip() for line in text[1:-1].splitlines() if line.strip()]
        return [bicep_literal(item) for item in items]
    raise ValueError(f"not a literal: {text!r}")


def allowed_values(param: Param) -> list[object] | None:
    """The @allowed([...]) list of a param, if it has one."""
    raw = param.decorators.get("allowed")
    if raw is None:
        return None
    value = bicep_literal(raw)
    if not isinstance(value, list):
        raise ValueError(f"@allowed of {param.name} is not a list")
    return value


def description(param: Param) -> str | None:
    """The @description('...') text of a param, if any."""
    raw = param.decorators.get("description")
    return None if raw is None else bicep_string(raw)


def arm_declaration(param: Param) -> dict[str, object]:
    """The ARM parameter declaration a param compiles to (a non-literal default is kept as its Bicep text)."""
    declaration: dict[str, object] = {"type": param.arm_type}
    if param.default is not None:
        try:
            declaration["defaultValue"] = bicep_literal(param.default)
        except ValueError:
            declaration["defaultValue"] = param.default
    if (allowed := allowed_values(param)) is not None:
        declaration["allowedValues"] = allowed
    for bound in ("minValue", "maxValue", "minLength", "maxLength"):
        if bound in param.decorators:
            declaration[bound] = int(param.decorators[bound])
    return declaration
