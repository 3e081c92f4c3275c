"""Does a hand-compiled ARM template say what its Bicep source says? Declarations and literal properties."""

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from tests.infra.arm_expressions import Call, Literal, calls, is_expression, parse, string_argument
from tests.infra.arm_template import expressions
from tests.infra.bicep_literals import allowed_values, bicep_literal, bicep_string, description
from tests.infra.bicep_reader import BicepFile, Param

INTERPOLATION = re.compile(r"\$\{(\w+)\}")
IDENTIFIER = re.compile(r"'(?:[^'\\]|\\.)*'|(?<![.\w])([A-Za-z_]\w*)\b(?!\s*\()")
LITERAL_LINE = re.compile(r"^\s*('[^']*'|\w+):\s*('(?:[^'\\]|\\.)*'|-?\d+|true|false)\s*$")


def bicep_expression_to_arm(text: str, bicep: BicepFile) -> str:
    """The ARM form of a simple Bicep expression: a whole-string interpolation, or calls over names."""
    text = text.strip()
    if text.startswith("'") and text.endswith("'") and "${" in text:
        names = INTERPOLATION.findall(text)
        pattern = INTERPOLATION.sub(lambda _: "{%d}", text[1:-1]) % tuple(range(len(names)))
        args = ", ".join(_reference(name, bicep) for name in names)
        return f"[format('{pattern}', {args})]"

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return match.group(0) if name is None or name in ("true", "false") else _reference(name, bicep)

    return f"[{IDENTIFIER.sub(replace, text)}]"


def _reference(name: str, bicep: BicepFile) -> str:
    """parameters('x') or variables('x') for a Bicep name."""
    if name in bicep.params:
        return f"parameters('{name}')"
    if name in bicep.variables:
        return f"variables('{name}')"
    raise ValueError(f"{name} is neither a parameter nor a variable")


def _same_default(param: Param, arm_default: Any, bicep: BicepFile) -> bool:
    """Whether a Bicep default and an ARM defaultValue are the same value or the same expression."""
    assert param.default is not None
    try:
        return bool(bicep_literal(param.default) == arm_default)
    except ValueError:
        pass
    if not (isinstance(arm_default, str) and is_expression(arm_default)):
        return False
    return parse(bicep_expression_to_arm(param.default, bicep)) == parse(arm_default)


def parameter_problems(bicep: BicepFile, arm: Mapping[str, Any]) -> list[str]:
    """Differences in parameter names, types, defaults, allowed values, bounds and descriptions."""
    declared: Mapping[str, Any] = arm.get("parameters", {})
    problems = [f"parameter {name} only in Bicep" for name in bicep.params.keys() - declared.keys()]
    problems += [f"parameter {name} only in ARM" for name in declared.keys() - bicep.params.keys()]
    for name in bicep.params.keys() & declared.keys():
        param, json_param = bicep.params[name], declared[name]
        if param.arm_type != str(json_param.get("type", "")).lower():
            problems.append(f"parameter {name}: Bicep type {param.arm_type}, ARM type {json_param.get('type')}")
        if (param.default is None) != ("defaultValue" not in json_param):
            problems.append(f"parameter {name}: a default on one side only")
        elif param.default is not None and not _same_default(param, json_param["defaultValue"], bicep):
            problems.append(f"parameter {name}: default {param.default} vs {json_param['defaultValue']!r}")
        if allowed_values(param) != json_param.get("allowedValues"):
            problems.append(f"parameter {name}: allowed values differ")
        for decorator in ("minValue", "maxValue", "minLength", "maxLength"):
            bicep_bound = int(param.decorators[decorator]) if decorator in param.decorators else None
            if bicep_bound != json_param.get(decorator):
                problems.append(f"parameter {name}: {decorator} {bicep_bound} vs {json_param.get(decorator)}")
        if description(param) != json_param.get("metadata", {}).get("description"):
            problems.append(f"parameter {name}: descriptions differ")
    return problems


def resource_problems(bicep: BicepFile, arm: Mapping[str, Any]) -> list[str]:
    """Differences in the resources deployed (type, API version, whether conditional), and in existing ones used."""
    deployed = [r for r in bicep.resources.values() if not r.existing]
    bicep_set = Counter((r.type, r.api_version, r.condition is not None) for r in deployed)
    arm_set = Counter((r["type"], r["apiVersion"], "condition" in r) for r in arm.get("resources", []))
    problems = [f"resource {key} in Bicep, not in ARM" for key in bicep_set - arm_set]
    problems += [f"resource {key} in ARM, not in Bicep" for key in arm_set - bicep_set]
    versions = {r.type: r.api_version for r in bicep.resources.values()}
    for call in _resource_calls(arm):
        type_ = _resource_type(call)
        if type_ is None:
            continue
        if type_ not in versions:
            problems.append(f"ARM refers to {type_}, which the Bicep does not declare")
        elif call.name.lower() != "resourceid" and string_argument(call, 1) not in (None, versions[type_]):
            problems.append(f"{call.name}() of {type_} uses API {string_argument(call, 1)}, Bicep {versions[type_]}")
    referenced = {_resource_type(call) for call in _resource_calls(arm)}
    problems += [f"existing {r.type} is never referenced in ARM"
                 for r in bicep.resources.values() if r.existing and r.type not in referenced]
    return problems


def _resource_calls(arm: Mapping[str, Any]) -> Iterator[Call]:
    """resourceId(), reference() and list*() calls in the template."""
    for _, text in expressions(arm):
        for call in calls(parse(text)):
            if call.name.lower() in ("resourceid", "reference") or call.name.lower().startswith("list"):
                yield call


def _resource_type(call: Call) -> str | None:
    """The resource type a resourceId() names, or that reference()/list*() reads through resourceId()."""
    if call.name.lower() == "resourceid":
        return string_argument(call)
    first = call.args[0] if call.args else None
    return _resource_type(first) if isinstance(first, Call) and first.name.lower() == "resourceid" else None


def declaration_problems(bicep: BicepFile, arm: Mapping[str, Any]) -> list[str]:
    """Parameters, variables, resources and outputs that the two files declare differently."""
    problems = parameter_problems(bicep, arm) + resource_problems(bicep, arm)
    arm_variables = set(arm.get("variables", {}))
    problems += [f"variable {name} only in Bicep" for name in bicep.variables.keys() - arm_variables]
    problems += [f"variable {name} only in ARM" for name in arm_variables - bicep.variables.keys()]
    arm_outputs: Mapping[str, Any] = arm.get("outputs", {})
    problems += [f"output {name} only in Bicep" for name in bicep.outputs.keys() - arm_outputs.keys()]
    problems += [f"output {name} only in ARM" for name in arm_outputs.keys() - bicep.outputs.keys()]
    problems += [f"output {name}: type {bicep.outputs[name].type} vs {arm_outputs[name].get('type')}"
                 for name in bicep.outputs.keys() & arm_outputs.keys()
                 if bicep.outputs[name].type.lower() != str(arm_outputs[name].get("type", "")).lower()]
    return problems


def bicep_literal_properties(bicep: BicepFile) -> set[tuple[str, str]]:
    """(key, JSON of the literal) pairs in deployed resources' bodies and variables, e.g. ('periodSeconds', '90')."""
    pairs: set[tuple[str, str]] = set()
    bodies = [r.body.split("\n", 1)[1] for r in bicep.resources.values() if not r.existing and "\n" in r.body]
    for body in [*bodies, *bicep.variables.values()]:
        for line in body.splitlines():
            if (match := LITERAL_LINE.match(line)) and "${" not in match.group(2):
                key = bicep_string(match.group(1)) if match.group(1).startswith("'") else match.group(1)
                pairs.add((str(key), json.dumps(bicep_literal(match.group(2)))))
    pairs.update((name, json.dumps(bicep_literal(text))) for name, text in bicep.variables.items()
                 if _is_literal(text) and not isinstance(bicep_literal(text), (list, dict)))
    return pairs


def _is_literal(text: str) -> bool:
    """Whether a Bicep value is a literal."""
    try:
        bicep_literal(text)
    except ValueError:
        return False
    return True


def arm_literal_properties(arm: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(key, JSON of the literal) pairs in ARM: plain JSON, createObject() pairs, literals in resource names."""
    pairs: set[tuple[str, str]] = set()
    stack: list[Any] = [arm]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, (str, int, bool)) and not (isinstance(item, str) and is_expression(item)):
                    pairs.add((key, json.dumps(item)))
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    for path, text in expressions(arm):
        for call in calls(parse(text)):
            if call.name.lower() == "createobject":
                keys, values = call.args[::2], call.args[1::2]
                pairs.update((k.value, json.dumps(v.value)) for k, v in zip(keys, values, strict=True)
                             if isinstance(k, Literal) and isinstance(k.value, str) and isinstance(v, Literal))
            if path[-1] == "name" and path[0] == "resources" and len(path) == 3:
                pairs.update(("name", json.dumps(arg.value)) for arg in call.args if isinstance(arg, Literal))
    return pairs


def literal_property_problems(bicep: BicepFile, arm: Mapping[str, Any]) -> list[str]:
    """Literal settings in the Bicep (probe timings, sizes, SKUs...) that the ARM JSON does not carry."""
    in_arm = arm_literal_properties(arm)
    return [f"Bicep sets {key}: {value}, ARM has no such property value"
            for key, value in sorted(bicep_literal_properties(bicep)) if (key, value) not in in_arm]

