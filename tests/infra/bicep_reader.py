"""A small, honest reader of Bicep declarations: what `param`, `var`, `resource`, `module` and `output` lines say.

It is no compiler: it reads declarations line by line (decorators above them, the declaration line, and the
body up to the matching closing bracket) and keeps each body's text for the checks that need it. Syntax as a
whole is checked separately with the pycep-parser grammar.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

PARAM = re.compile(r"^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+))?$")
VAR = re.compile(r"^var\s+(\w+)\s*=\s*(.*)$")
RESOURCE = re.compile(r"^resource\s+(\w+)\s+'([^'@]+)@([^']+)'\s*(existing\s*)?=\s*(?:if\s*\((.*)\)\s*)?(.*)$")
MODULE = re.compile(r"^module\s+(\w+)\s+'([^']+)'\s*=\s*(.*)$")
OUTPUT = re.compile(r"^output\s+(\w+)\s+(\w+)\s*=\s*(.+)$")
DECORATOR = re.compile(r"^@(\w+)\((.*)\)$", re.DOTALL)
BICEP_TO_ARM_TYPES = {"string": "string", "int": "int", "bool": "bool", "array": "array", "object": "object"}


@dataclass
class Param:
    """A `param` declaration with its decorators."""

    name: str
    type: str
    default: str | None
    decorators: dict[str, str] = field(default_factory=dict)

    @property
    def secure(self) -> bool:
        """Whether it carries @secure()."""
        return "secure" in self.decorators

    @property
    def arm_type(self) -> str:
        """The type ARM JSON declares for it (securestring for a secure string)."""
        base = BICEP_TO_ARM_TYPES[self.type]
        return f"secure{base}" if self.secure else base


@dataclass
class Resource:
    """A `resource` declaration: symbol, type, API version, whether existing, condition and body text."""

    symbol: str
    type: str
    api_version: str
    existing: bool
    condition: str | None
    body: str


@dataclass
class Module:
    """A `module` declaration: symbol, path and body text."""

    symbol: str
    path: str
    body: str


@dataclass
class Output:
    """An `output` declaration."""

    name: str
    type: str
    value: str


@dataclass
class BicepFile:
    """The declarations of one Bicep file."""

    params: dict[str, Param] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    modules: dict[str, Module] = field(default_factory=dict)
    outputs: dict[str, Output] = field(default_factory=dict)
    target_scope: str = "resourceGroup"


def strip_comment(line: str) -> str:
    """A line without its `//` comment (a `//` inside a string literal is kept)."""
    in_string = False
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\" and in_string:
            index += 2
            continue
        if char == "'":
            in_string = not in_string
        elif not in_string and line.startswith("//", index):
            return line[:index].rstrip()
        index += 1
    return line.rstrip()


def bracket_depth(text: str) -> int:
    """Open brackets minus closed ones outside string literals."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and in_string:
            escaped = True
        elif char == "'":
            in_string = not in_string
        elif not in_string and char in "([{":
            depth += 1
        elif not in_string and char in ")]}":
            depth -= 1
    return depth


def statements(text: str) -> list[str]:
    """Top-level statements: a line plus its continuation lines until brackets balance; comments removed."""
    lines = [strip_comment(line) for line in text.splitlines()]
    result: list[str] = []
    current: list[str] = []
    for line in lines:
        if not current and not line.strip():
            continue
        current.append(line)
        if bracket_depth("\n".join(current)) <= 0:
            result.append("\n".join(current).strip())
            current = []
    if current:
        raise ValueError(f"unbalanced brackets at the end of the file: {current[0]!r}")
    return result


def read_bicep_text(text: str) -> BicepFile:
    """Read the declarations of Bicep source text."""
    parsed = BicepFile()
    decorators: dict[str, str] = {}
    for statement in statements(text):
        first_line = statement.partition("\n")[0]
        if statement.startswith("@"):
            match = DECORATOR.match(statement)
            if not match:
                raise ValueError(f"unreadable decorator: {statement!r}")
            decorators[match.group(1)] = match.group(2).strip()
            continue
        _read_statement(parsed, statement, first_line, decorators)
        decorators = {}
    return parsed


def _read_statement(parsed: BicepFile, statement: str, first_line: str, decorators: dict[str, str]) -> None:
    """Add one declaration to `parsed`."""
    if statement.startswith("targetScope"):
        parsed.target_scope = statement.split("=", 1)[1].strip().strip("'")
    elif match := PARAM.match(statement):
        parsed.params[match.group(1)] = Param(match.group(1), match.group(2), match.group(3), decorators)
    elif match := VAR.match(first_line):
        parsed.variables[match.group(1)] = statement.split("=", 1)[1].strip()
    elif match := RESOURCE.match(first_line):
        symbol, type_, api, existing, condition, _ = match.groups()
        parsed.resources[symbol] = Resource(symbol, type_, api, bool(existing), condition, statement)
    elif match := MODULE.match(first_line):
        parsed.modules[match.group(1)] = Module(match.group(1), match.group(2), statement)
    elif match := OUTPUT.match(statement):
        parsed.outputs[match.group(1)] = Output(match.group(1), match.group(2), match.group(3).strip())
    elif not statement.startswith(("metadata", "import", "type", "func")):
        raise ValueError(f"not a declaration this reader knows: {first_line!r}")


def read_bicep(path: Path) -> BicepFile:
    """Read the declarations of a Bicep file."""
    return read_bicep_text(path.read_text())
