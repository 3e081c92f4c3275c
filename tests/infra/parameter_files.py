"""Validate an ARM parameters file against a template's parameter declarations, as ARM would before deploying."""

import re
from collections.abc import Collection, Mapping
from typing import Any

PARAMETERS_SCHEMA = re.compile(r"^https://schema\.management\.azure\.com/schemas/[\d-]+/deploymentParameters\.json#$")
AZD_REFERENCE = re.compile(r"^\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:=(?P<default>[^}]*))?\}$")
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "securestring": (str,), "int": (int,), "bool": (bool,), "array": (list,),
    "object": (dict,), "secureobject": (dict,),
}


def fits_type(value: Any, type_: str) -> bool:
    """Whether a JSON value has an ARM parameter type (a bool is not an int there)."""
    return isinstance(value, PYTHON_TYPES[type_]) and not (type_ == "int" and isinstance(value, bool))


def type_problem(name: str, declaration: Mapping[str, Any], value: Any) -> str | None:
    """Why a value does not fit a parameter's type, allowed values or bounds (None when it fits)."""
    type_ = str(declaration["type"]).lower()
    if not fits_type(value, type_):
        return f"{name}: {value!r} is not of type {declaration['type']}"
    allowed = declaration.get("allowedValues")
    if allowed is not None:
        values = value if type_ == "array" else [value]
        if outside := [item for item in values if item not in allowed]:
            return f"{name}: {outside!r} not in the allowed values {allowed!r}"
    if "minValue" in declaration and value < declaration["minValue"]:
        return f"{name}: {value} is below the minimum {declaration['minValue']}"
    if "maxValue" in declaration and value > declaration["maxValue"]:
        return f"{name}: {value} is above the maximum {declaration['maxValue']}"
    if "minLength" in declaration and len(value) < declaration["minLength"]:
        return f"{name}: shorter than {declaration['minLength']}"
    if "maxLength" in declaration and len(value) > declaration["maxLength"]:
        return f"{name}: longer than {declaration['maxLength']}"
    return None


def parameters_file_problems(template: Mapping[str, Any], parameters_file: Mapping[str, Any],
                             supplied_at_deploy: Collection[str] = ()) -> list[str]:
    """Problems ARM would find, after the caller drops null values (as the Azure target does).

    `supplied_at_deploy` names required parameters the caller adds when it deploys (a secret, the image).
    Secure parameters must not have a value in the file: secrets are not committed.
    """
    declared: Mapping[str, Any] = template.get("parameters", {})
    problems: list[str] = []
    if set(parameters_file) != {"$schema", "contentVersion", "parameters"}:
        problems.append(f"top-level keys must be $schema, contentVersion, parameters; got {sorted(parameters_file)}")
    if not PARAMETERS_SCHEMA.match(str(parameters_file.get("$schema", ""))):
        problems.append(f"$schema is not a deploymentParameters schema: {parameters_file.get('$schema')!r}")
    entries: Mapping[str, Any] = parameters_file.get("parameters", {})
    sent: dict[str, Any] = {}
    for name, entry in entries.items():
        if name not in declared:
            problems.append(f"{name}: the template declares no such parameter")
        elif not isinstance(entry, Mapping) or set(entry) != {"value"}:
            problems.append(f"{name}: an entry must be {{\"value\": ...}}")
        elif entry["value"] is not None:
            sent[name] = entry["value"]
    for name, value in sent.items():
        if str(declared[name]["type"]).lower().startswith("secure"):
            problems.append(f"{name}: a secure parameter has a value in the file (secrets are not committed)")
        elif (problem := type_problem(name, declared[name], value)) is not None:
            problems.append(problem)
    required = [name for name, declaration in declared.items() if "defaultValue" not in declaration]
    problems += [f"{name}: required, and neither in the file nor supplied at deploy time"
                 for name in required if name not in sent and name not in supplied_at_deploy]
    return problems


def azd_parameters_problems(declared: Mapping[str, Mapping[str, Any]], parameters_file: Mapping[str, Any]) -> list[str]:
    """Problems in an azd main.parameters.json: unknown names, unset required ones, defaults of the wrong type.

    azd replaces "${NAME}" and "${NAME=default}" with azd environment values (converting to the declared
    type), so such a value's default is checked as the declared type would read it.
    """
    entries: Mapping[str, Any] = parameters_file.get("parameters", {})
    problems = [f"{name}: the template declares no such parameter" for name in entries if name not in declared]
    for name, declaration in declared.items():
        if name not in entries:
            if "defaultValue" not in declaration:
                problems.append(f"{name}: required, and main.parameters.json does not map it")
            continue
        value = entries[name].get("value")
        match = AZD_REFERENCE.match(value) if isinstance(value, str) else None
        if match is None:
            problem = type_problem(name, declaration, value)
        elif match.group("default") is None or str(declaration["type"]).lower() in ("string", "securestring"):
            problem = None
        else:
            problem = type_problem(name, declaration, _azd_converted(match.group("default"), declaration))
        if problem is not None:
            problems.append(problem)
    return problems


def _azd_converted(text: str, declaration: Mapping[str, Any]) -> Any:
    """How azd reads a default string for a typed parameter."""
    type_ = str(declaration["type"]).lower()
    if type_ == "bool":
        return {"true": True, "false": False}.get(text, text)
    if type_ == "int":
        return int(text) if re.fullmatch(r"-?\d+", text) else text
    return text
