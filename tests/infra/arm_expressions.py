"""A parser for ARM template expressions ("[...]" strings) and the list of functions ARM has.

Grammar (ARM template syntax docs): expression = call accessor* | string | number; call = name "(" args ")";
accessor = "." name | "[" expression "]"; strings are single-quoted with '' for a quote; names are
case-insensitive; a string starting with "[[" is a literal that starts with "[", not an expression.
"""

import re
from dataclasses import dataclass
from typing import Union

# Every function ARM template expressions have (learn.microsoft.com, "ARM template functions"), lower case;
# names starting with "list" (listKeys, listSecrets, ...) are resource list functions too.
ARM_FUNCTIONS = frozenset({
    # any / array
    "array", "concat", "contains", "createarray", "empty", "first", "indexof", "intersection", "last",
    "lastindexof", "length", "max", "min", "range", "skip", "take", "union", "tryget", "tryindexfromend",
    # cidr
    "parsecidr", "cidrsubnet", "cidrhost",
    # comparison
    "coalesce", "equals", "greater", "greaterorequals", "less", "lessorequals",
    # date
    "datetimeadd", "datetimefromepoch", "datetimetoepoch", "utcnow",
    # deployment
    "deployer", "deployment", "environment", "parameters", "variables",
    # lambda
    "filter", "groupby", "lambda", "lambdavariables", "map", "mapvalues", "reduce", "sort", "toobject",
    # logical
    "and", "bool", "false", "if", "not", "or", "true",
    # numeric
    "add", "copyindex", "div", "float", "int", "mod", "mul", "sub",
    # object
    "createobject", "items", "json", "null", "objectkeys", "shallowmerge",
    # resource and scope
    "extensionresourceid", "managementgroup", "managementgroupresourceid", "pickzones", "providers",
    "reference", "references", "resourcegroup", "resourceid", "subscription", "subscriptionresourceid",
    "tenant", "tenantresourceid",
    # string
    "base64", "base64tojson", "base64tostring", "datauri", "datauritostring", "endswith", "format", "guid",
    "join", "newguid", "padleft", "replace", "split", "startswith", "string", "substring", "tolower",
    "toupper", "trim", "uniquestring", "uri", "uricomponent", "uricomponenttostring",
})

TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>-?\d+(?:\.\d+)?)|(?P<string>'(?:[^']|'')*')"
                   r"|(?P<punct>[().,\[\]]))")


class ExpressionError(ValueError):
    """An ARM expression that does not parse."""


@dataclass(frozen=True)
class Call:
    """A function call."""

    name: str
    args: tuple["Node", ...]


@dataclass(frozen=True)
class Literal:
    """A string or number literal."""

    value: str | int | float


@dataclass(frozen=True)
class Property:
    """`.name` on a value."""

    target: "Node"
    name: str


@dataclass(frozen=True)
class Index:
    """`[expression]` on a value."""

    target: "Node"
    index: "Node"


Node = Union[Call, Literal, Property, Index]  # noqa: UP007 (a runtime alias used in string annotations)


def is_expression(value: str) -> bool:
    """Whether a JSON string is an ARM expression (and not an escaped "[[" literal)."""
    return value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def tokenize(text: str) -> list[tuple[str, str]]:
    """Tokens as (kind, text); raises ExpressionError on a character no token starts with."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if not match:
            raise ExpressionError(f"unexpected character {text[position:].lstrip()[:1]!r} at {position} in {text!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens of one expression."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(f"{message} in [{self.text}]")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.fail(f"expected {expected or 'more'} but the expression ended")
        if expected is not None and token[1] != expected:
            raise self.fail(f"expected {expected!r}, got {token[1]!r}")
        self.position += 1
        return token

    def expression(self) -> Node:
        node = self.primary()
        while (token := self.peek()) is not None and token[1] in (".", "["):
            self.take()
            if token[1] == ".":
                kind, name = self.take()
                if kind != "name":
                    raise self.fail(f"expected a property name after '.', got {name!r}")
                node = Property(node, name)
            else:
                node = Index(node, self.expression())
                self.take("]")
        return node

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "string":
            return Literal(text[1:-1].replace("''", "'"))
        if kind == "number":
            return Literal(float(text) if "." in text else int(text))
        if kind != "name":
            raise self.fail(f"unexpected {text!r}")
        self.take("(")
        args: list[Node] = []
        if (token := self.peek()) is not None and token[1] == ")":
            self.take(")")
            return Call(text, tuple(args))
        while True:
            args.append(self.expression())
            separator = self.take()[1]
            if separator == ")":
                return Call(text, tuple(args))
            if separator != ",":
                raise self.fail(f"expected ',' or ')', got {separator!r}")


def parse(expression: str) -> Node:
    """Parse an ARM expression string ("[...]") into a tree; raises ExpressionError."""
    if not is_expression(expression):
        raise ExpressionError(f"not an expression (must be '[...]'): {expression!r}")
    parser = _Parser(expression[1:-1])
    node = parser.expression()
    if (leftover := parser.peek()) is not None:
        raise parser.fail(f"unexpected {leftover[1]!r} after a complete expression")
    return node


def calls(node: Node) -> list[Call]:
    """Every function call in a tree, outermost first."""
    found: list[Call] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Call):
            found.append(current)
            stack.extend(reversed(current.args))
        elif isinstance(current, Property):
            stack.append(current.target)
        elif isinstance(current, Index):
            stack.extend([current.target, current.index])
    return found


def unknown_functions(node: Node) -> list[str]:
    """Names of the calls in a tree that ARM has no function for."""
    return [call.name for call in calls(node)
            if call.name.lower() not in ARM_FUNCTIONS and not call.name.lower().startswith("list")]


def string_argument(call: Call, position: int = 0) -> str | None:
    """A call's argument at `position` when it is a string literal."""
    if position < len(call.args) and isinstance(arg := call.args[position], Literal) and isinstance(arg.value, str):
        return arg.value
    return None
