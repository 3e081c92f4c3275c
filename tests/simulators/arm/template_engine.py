"""Evaluating ARM template expressions: the functions the committed template uses, and nothing else.

Simulated functions (names case-insensitive): concat, contains, createArray, createObject, empty, equals, format, if
(only the chosen branch is evaluated, as ARM does), join, listKeys, or, parameters, reference, resourceGroup,
resourceId, string, subscription, substring, uniqueString, variables. Parsing is tests/infra/arm_expressions.py's.
Parameters and variables are evaluated on first use (a default may use other parameters). Property access is
case-insensitive, as in ARM. Error messages name properties and functions, never values (a value may be a secret).
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tests.infra.arm_expressions import Call, ExpressionError, Index, Literal, Node, Property, is_expression, parse
from tests.simulators.arm.unique_string import unique_string

SIMULATED_FUNCTIONS = frozenset({
    "concat", "contains", "createarray", "createobject", "empty", "equals", "format", "if", "join", "listkeys", "or",
    "parameters", "reference", "resourcegroup", "resourceid", "string", "subscription", "substring",
    "uniquestring", "variables",
})  # fmt: skip
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


class TemplateError(Exception):
    """A template or expression ARM refuses: code (InvalidTemplate, NotSimulated, ...) and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Scope:
    """Where the deployment runs: subscription and resource group (name as created, and its location)."""

    subscription: str
    resource_group: str
    location: str

    @property
    def resource_group_id(self) -> str:
        """resourceGroup().id: the group's name as it was created (uniqueString of it is case-sensitive)."""
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"


class Runtime(Protocol):
    """What reference() and listKeys() read: the deployed resources."""

    def reference(self, resource_id: str, api_version: str | None, full: bool) -> Any:
        """The resource's properties (its whole body when `full`)."""

    def list_keys(self, resource_id: str, api_version: str) -> Any:
        """The resource's listKeys answer."""


def resource_id(scope: Scope, resource_type: str, names: list[str]) -> str:
    """The ID of a resource in the scope's group: names interleaved with the type's segments."""
    namespace, *types = resource_type.split("/")
    if len(types) != len(names) or not types:
        raise TemplateError("InvalidTemplate", f"The resource type '{resource_type}' needs {len(types)} name "
                                               f"segment(s), {len(names)} given.")
    path = "/".join(f"{kind}/{name}" for kind, name in zip(types, names, strict=True))
    return f"{scope.resource_group_id}/providers/{namespace}/{path}"


def type_name(value: Any) -> str:
    """A JSON value's type as ARM's messages name it."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


def as_string(value: Any) -> str:
    """string(): JSON for arrays and objects, True/False for booleans."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def member(value: Any, name: str) -> Any:
    """`.name` of an object, case-insensitively; InvalidTemplate naming the available properties."""
    if not isinstance(value, Mapping):
        raise TemplateError("InvalidTemplate", f"The language expression property '{name}' can't be evaluated: the "
                                               f"value is of type '{type_name(value)}', not 'Object'.")
    for key, item in value.items():
        if key.lower() == name.lower():
            return item
    raise TemplateError("InvalidTemplate", f"The language expression property '{name}' doesn't exist, available "
                                           f"properties are '{', '.join(value)}'.")


def format_string(template: str, args: list[Any]) -> str:
    """format(): .NET composite formatting with {n} items and {{ }} escapes (no format specifiers)."""
    out, position = [], 0
    while position < len(template):
        char = template[position]
        if template.startswith("{{", position) or template.startswith("}}", position):
            out.append(char)
            position += 2
        elif char == "{":
            end = template.find("}", position)
            item = template[position + 1:end] if end > 0 else ""
            if not item.isdigit() or int(item) >= len(args):
                raise TemplateError("InvalidTemplate", f"format(): the format item '{{{item}}}' is not valid "
                                                       f"for {len(args)} argument(s).")
            out.append(as_string(args[int(item)]))
            position = end + 1
        else:
            out.append(char)
            position += 1
    return "".join(out)


class Evaluator:
    """Evaluates a template's expressions in a scope; parameters come from `parameter(name)`."""

    def __init__(self, template: Mapping[str, Any], scope: Scope, parameter: Callable[[str], Any],
                 runtime: Runtime | None) -> None:
        self.scope = scope
        self.parameter = parameter
        self.runtime = runtime
        self._variables = {name.lower(): value for name, value in (template.get("variables") or {}).items()}
        self._values: dict[str, Any] = {}
        self._evaluating: set[str] = set()

    def value(self, document: Any) -> Any:
        """A JSON value with every expression string evaluated ("[[" strings lose one "[")."""
        if isinstance(document, str):
            if is_expression(document):
                try:
                    return self.node(parse(document))
                except ExpressionError as error:
                    raise TemplateError("InvalidTemplate", f"The expression is not valid: {error}") from error
            return document[1:] if document.startswith("[[") else document
        if isinstance(document, Mapping):
            return {key: self.value(item) for key, item in document.items()}
        if isinstance(document, list):
            return [self.value(item) for item in document]
        return document

    def variable(self, name: str) -> Any:
        """variables(name), evaluated once."""
        key = name.lower()
        if key not in self._variables:
            raise TemplateError("InvalidTemplate", f"The template variable '{name}' is not found.")
        if key not in self._values:
            if key in self._evaluating:
                raise TemplateError("InvalidTemplate", f"The template variable '{name}' refers to itself.")
            self._evaluating.add(key)
            self._values[key] = self.value(self._variables[key])
            self._evaluating.discard(key)
        return self._values[key]

    def node(self, node: Node) -> Any:
        """One parsed expression's value."""
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Property):
            return member(self.node(node.target), node.name)
        if isinstance(node, Index):
            return self._index(self.node(node.target), self.node(node.index))
        return self._call(node)

    @staticmethod
    def _index(target: Any, index: Any) -> Any:
        if isinstance(target, list) and isinstance(index, int) and not isinstance(index, bool):
            if not 0 <= index < len(target):
                raise TemplateError("InvalidTemplate", f"The language expression index '{index}' is out of range "
                                                       f"of an array of {len(target)}.")
            return target[index]
        if isinstance(index, str):
            return member(target, index)
        raise TemplateError("InvalidTemplate", f"A value of type '{type_name(target)}' cannot be indexed by a "
                                               f"value of type '{type_name(index)}'.")

    def _call(self, call: Call) -> Any:
        name = call.name.lower()
        if name == "if":
            if len(call.args) != 3:
                raise TemplateError("InvalidTemplate", "The template function 'if' expects 3 arguments.")
            condition = self.node(call.args[0])
            if not isinstance(condition, bool):
                raise TemplateError("InvalidTemplate", "The first argument of 'if' must be a Boolean.")
            return self.node(call.args[1] if condition else call.args[2])
        function = FUNCTIONS.get(name)
        if function is None:
            raise TemplateError("InvalidTemplate", f"The template function '{call.name}' is not simulated.")
        return function(self, [self.node(arg) for arg in call.args])

    def reference(self, args: list[Any]) -> Any:
        """reference(resourceId or name, [apiVersion], ['Full'])."""
        if not args or not isinstance(args[0], str) or self.runtime is None:
            raise TemplateError("InvalidTemplate", "reference() needs a resource ID or name, and is only valid in "
                                                   "resource properties and outputs.")
        target = args[0]
        api_version = args[1] if len(args) > 1 else None
        full = len(args) > 2 and str(args[2]).lower() == "full"
        return self.runtime.reference(target, api_version, full)

    def list_keys(self, args: list[Any]) -> Any:
        """listKeys(resourceId, apiVersion)."""
        if len(args) != 2 or self.runtime is None:
            raise TemplateError("InvalidTemplate", "listKeys() needs a resource ID and an API version, and is only "
                                                   "valid in resource properties and outputs.")
        return self.runtime.list_keys(str(args[0]), str(args[1]))


def _resource_id(evaluator: Evaluator, args: list[Any]) -> str:
    """resourceId([subscriptionId], [resourceGroupName], type, names...)."""
    strings = [str(arg) for arg in args]
    position = next((index for index, arg in enumerate(strings) if "/" in arg), None)
    if position is None or position > 2:
        raise TemplateError("InvalidTemplate", "resourceId() needs a resource type such as 'Microsoft.X/things'.")
    scope = evaluator.scope
    if position == 2:
        scope = Scope(strings[0], strings[1], scope.location)
    elif position == 1:
        scope = Scope(scope.subscription, strings[0], scope.location)
    return resource_id(scope, strings[position], strings[position + 1:])


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return as_string(item) in container
    if isinstance(container, list):
        return item in container
    if isinstance(container, Mapping):
        return str(item).lower() in (key.lower() for key in container)
    raise TemplateError("InvalidTemplate", f"contains() cannot search a value of type '{type_name(container)}'.")


def _concat(args: list[Any]) -> Any:
    if args and isinstance(args[0], list):
        if not all(isinstance(arg, list) for arg in args):
            raise TemplateError("InvalidTemplate", "concat() of arrays needs every argument to be an array.")
        return [item for arg in args for item in arg]
    return "".join(as_string(arg) for arg in args)


def _substring(args: list[Any]) -> str:
    text, start = str(args[0]), int(args[1])
    length = int(args[2]) if len(args) > 2 else len(text) - start
    if start < 0 or length < 0 or start + length > len(text):
        raise TemplateError("InvalidTemplate", "The index and length parameters must refer to a location within "
                                               "the string.")
    return text[start:start + length]


def _create_object(args: list[Any]) -> dict[str, Any]:
    if len(args) % 2:
        raise TemplateError("InvalidTemplate", "createObject() needs name and value pairs.")
    return {str(args[index]): args[index + 1] for index in range(0, len(args), 2)}


def _or(args: list[Any]) -> bool:
    if len(args) < 2 or not all(isinstance(arg, bool) for arg in args):
        raise TemplateError("InvalidTemplate", "or() needs two or more Boolean arguments.")
    return any(args)


def _subscription(evaluator: Evaluator, args: list[Any]) -> dict[str, Any]:
    subscription = evaluator.scope.subscription
    return {"id": f"/subscriptions/{subscription}", "subscriptionId": subscription, "tenantId": TENANT_ID,
            "displayName": "Simulated subscription"}


def _resource_group(evaluator: Evaluator, args: list[Any]) -> dict[str, Any]:
    scope = evaluator.scope
    return {"id": scope.resource_group_id, "name": scope.resource_group, "type": "Microsoft.Resources/resourceGroups",
            "location": scope.location, "properties": {"provisioningState": "Succeeded"}}


FUNCTIONS: dict[str, Callable[[Evaluator, list[Any]], Any]] = {
    "concat": lambda evaluator, args: _concat(args),
    "contains": lambda evaluator, args: _contains(args[0], args[1]),
    "createarray": lambda evaluator, args: list(args),
    "createobject": lambda evaluator, args: _create_object(args),
    "empty": lambda evaluator, args: args[0] in (None, "", [], {}),
    "equals": lambda evaluator, args: args[0] == args[1],
    "format": lambda evaluator, args: format_string(str(args[0]), args[1:]),
    "join": lambda evaluator, args: str(args[1]).join(as_string(item) for item in args[0]),
    "listkeys": lambda evaluator, args: evaluator.list_keys(args),
    "or": lambda evaluator, args: _or(args),
    "parameters": lambda evaluator, args: evaluator.parameter(str(args[0])),
    "reference": lambda evaluator, args: evaluator.reference(args),
    "resourcegroup": _resource_group,
    "resourceid": _resource_id,
    "string": lambda evaluator, args: as_string(args[0]),
    "subscription": _subscription,
    "substring": lambda evaluator, args: _substring(args),
    "uniquestring": lambda evaluator, args: unique_string(*(str(arg) for arg in args)),
    "variables": lambda evaluator, args: evaluator.variable(str(args[0])),
}
