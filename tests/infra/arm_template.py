"""Reading a compiled ARM template: its expressions, what a deployment would write, and where secrets may go."""

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests.infra.arm_expressions import (
    Call,
    ExpressionError,
    Index,
    Literal,
    Node,
    Property,
    calls,
    is_expression,
    parse,
    string_argument,
    unknown_functions,
)

JsonPath = tuple[str | int, ...]


def load_json(path: Path) -> dict[str, Any]:
    """A JSON file as a dict."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def strings(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    """Every string in a JSON value with its path; object keys too (an expression may name a property)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield (*path, "<key>"), key
            yield from strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, (*path, index))


def expressions(template: Mapping[str, Any]) -> Iterator[tuple[JsonPath, str]]:
    """Every ARM expression string in a template, with its path."""
    for path, text in strings(template):
        if is_expression(text):
            yield path, text


def where(path: JsonPath) -> str:
    """A JSON path as text."""
    return "/".join(str(part) for part in path)


def expression_problems(template: Mapping[str, Any]) -> list[str]:
    """Expressions that do not parse, call a function ARM lacks, or name an undeclared parameter or variable."""
    declared = {"parameters": set(template.get("parameters", {})), "variables": set(template.get("variables", {}))}
    problems: list[str] = []
    for path, text in expressions(template):
        try:
            tree = parse(text)
        except ExpressionError as error:
            problems.append(f"{where(path)}: {error}")
            continue
        problems.extend(f"{where(path)}: ARM has no function {name}()" for name in unknown_functions(tree))
        for call in calls(tree):
            kind = call.name.lower()
            if kind in declared and (name := string_argument(call)) not in declared[kind]:
                problems.append(f"{where(path)}: {kind}({name!r}) is not declared")
    return problems


def referenced_parameters(template: Mapping[str, Any]) -> set[str]:
    """Names passed to parameters() anywhere in the template."""
    found: set[str] = set()
    for _, text in expressions(template):
        for call in calls(parse(text)):
            if call.name.lower() == "parameters" and (name := string_argument(call)) is not None:
                found.add(name)
    return found


class Evaluator:
    """Evaluates the deploy-time subset of ARM functions that conditions and literal settings use."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
        self.template = template
        self.parameters = dict(parameters)

    def value(self, raw: Any) -> Any:
        """A JSON value with its expressions evaluated."""
        if isinstance(raw, str) and is_expression(raw):
            return self.node(parse(raw))
        if isinstance(raw, str) and raw.startswith("[["):
            return raw[1:]
        if isinstance(raw, Mapping):
            return {self.value(key): self.value(item) for key, item in raw.items()}
        if isinstance(raw, list):
            return [self.value(item) for item in raw]
        return raw

    def node(self, node: Node) -> Any:
        """One expression tree's value."""
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Property):
            return self.node(node.target)[node.name]
        if isinstance(node, Index):
            return self.node(node.target)[self.node(node.index)]
        return self.call(node)

    def call(self, call: Call) -> Any:
        """One function call's value; lazy in if(), like ARM."""
        name = call.name.lower()
        if name == "if":
            return self.node(call.args[1] if self.node(call.args[0]) else call.args[2])
        if name == "parameters":
            return self.parameter(self.node(call.args[0]))
        if name == "variables":
            return self.value(self.template["variables"][self.node(call.args[0])])
        if name not in _PURE_FUNCTIONS:
            raise NotImplementedError(f"{call.name}() depends on the deployment; give the parameter that uses it")
        return _PURE_FUNCTIONS[name](*[self.node(arg) for arg in call.args])

    def parameter(self, name: str) -> Any:
        """A parameter's value: the one given, else its default."""
        if name in self.parameters:
            return self.parameters[name]
        declaration = self.template["parameters"][name]
        if "defaultValue" not in declaration:
            raise KeyError(f"parameter {name} has no value and no default")
        return self.value(declaration["defaultValue"])


_PURE_FUNCTIONS: dict[str, Any] = {
    "contains": lambda container, item: item in container,
    "or": lambda *values: any(values),
    "and": lambda *values: all(values),
    "not": lambda value: not value,
    "equals": lambda left, right: left == right,
    "empty": lambda value: not value,
    "true": lambda: True,
    "false": lambda: False,
    "createarray": lambda *items: list(items),
    "createobject": lambda *pairs: dict(zip(pairs[::2], pairs[1::2], strict=True)),
    "concat": lambda *parts: [item for part in parts for item in part] if isinstance(parts[0], list)
    else "".join(str(part) for part in parts),
    "string": lambda value: json.dumps(value) if isinstance(value, (dict, list)) else str(value),
    "format": lambda text, *args: text.format(*args),
    "join": lambda items, separator: separator.join(items),
}


def written_resources(template: Mapping[str, Any], parameters: Mapping[str, Any]) -> list[str]:
    """Types of the resources a deployment with these parameters would write (their condition is true)."""
    evaluator = Evaluator(template, parameters)
    return [resource["type"] for resource in template["resources"]
            if "condition" not in resource or evaluator.value(resource["condition"])]


def key_listing_problems(template: Mapping[str, Any]) -> list[str]:
    """list*() calls not guarded by their resource's own condition (so a reuse would need key-listing rights).

    ARM's if() evaluates only the branch it takes, so `if(<the resource's condition>, listKeys(...), '')` lists
    keys only in a deployment that creates the resource.
    """
    problems: list[str] = []
    for index, resource in enumerate(template.get("resources", [])):
        condition = resource.get("condition")
        for path, text in expressions(resource.get("properties", {})):
            tree = parse(text)
            if not any(call.name.lower().startswith("list") for call in calls(tree)):
                continue
            guarded = (isinstance(tree, Call) and tree.name.lower() == "if" and condition is not None
                       and tree.args[0] == parse(condition))
            if not guarded:
                problems.append(f"resources/{index}/properties/{where(path)}: keys listed outside if(<its condition>)")
    return problems


def secure_parameters(template: Mapping[str, Any]) -> set[str]:
    """Names of the securestring and secureobject parameters."""
    return {name for name, declaration in template.get("parameters", {}).items()
            if str(declaration.get("type", "")).lower().startswith("secure")}


def is_secret_value_path(path: JsonPath) -> bool:
    """Whether a path is a container-app secret value: resources/N/properties/configuration/secrets/M/value."""
    return (len(path) == 7 and path[0] == "resources" and path[2:5] == ("properties", "configuration", "secrets")
            and path[6] == "value")


def secret_problems(template: Mapping[str, Any]) -> list[str]:
    """Keys or secure parameters where they could leak: outputs, variables, anything but a secret's value."""
    secure = secure_parameters(template)
    problems: list[str] = []
    for path, text in expressions(template):
        for call in calls(parse(text)):
            name = call.name.lower()
            if name.startswith("list") and (path[0] != "resources" or "properties" not in path):
                problems.append(f"{where(path)}: {call.name}() outside a resource's properties")
            if name == "parameters" and string_argument(call) in secure and not is_secret_value_path(path):
                problems.append(f"{where(path)}: secure parameter {string_argument(call)!r} outside a secret value")
    return problems
