"""The declaration reader agrees with an independent Bicep grammar (pycep-parser), and both refuse broken text."""

from pathlib import Path

import pytest
from pycep import BicepParser

from tests.infra.bicep_literals import arm_declaration
from tests.infra.bicep_reader import read_bicep, read_bicep_text
from tests.infra.conftest import INFRA

BICEP_FILES = sorted(INFRA.rglob("*.bicep"))


@pytest.fixture(scope="module")
def grammar() -> BicepParser:
    """The pycep-parser Lark grammar, built once (a second or two)."""
    return BicepParser(cache=False)


def test_infra_has_the_expected_bicep_files():
    names = {path.relative_to(INFRA).as_posix() for path in BICEP_FILES}
    assert {"main.bicep", "provision/inference.bicep", "app/function.bicep", "app/rbac.bicep",
            "app/inference-rbac.bicep"} <= names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda path: path.relative_to(INFRA).as_posix())
def test_every_bicep_file_parses_and_both_readers_see_the_same_declarations(grammar: BicepParser, path: Path):
    parsed = grammar.parse(file_path=path)
    ours = read_bicep(path)
    assert set(ours.params) == set(parsed.get("parameters", {}))
    assert set(ours.variables) == set(parsed.get("variables", {}))
    assert {name: (r.type, r.api_version, r.existing) for name, r in ours.resources.items()} == {
        name: (r["type"], r["api_version"], r.get("existing", False))
        for name, r in parsed.get("resources", {}).items()
    }
    assert set(ours.modules) == set(parsed.get("modules", {}))
    assert set(ours.outputs) == set(parsed.get("outputs", {}))


def test_reader_sees_decorators_defaults_conditions_and_existing():
    bicep = read_bicep_text(
        "@description('A name (with parentheses) it\\'s')\n"
        "@allowed([\n  'a'\n  'b'\n])\n"
        "param choice string = 'a'\n"
        "@secure()\nparam key string\n"
        "resource s 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {\n  name: choice\n}\n"
        "resource n 'Microsoft.Storage/storageAccounts@2024-01-01' = if (!empty(key)) {\n  name: choice // c\n}\n"
        "output o string = s.name\n")
    assert bicep.params["choice"].decorators["description"] == "'A name (with parentheses) it\\'s'"
    assert arm_declaration(bicep.params["choice"]) == {
        "type": "string", "defaultValue": "a", "allowedValues": ["a", "b"]}
    assert arm_declaration(bicep.params["key"]) == {"type": "securestring"}
    assert bicep.resources["s"].existing and bicep.resources["s"].condition is None
    assert bicep.resources["n"].condition == "!empty(key)"
    assert bicep.outputs["o"].value == "s.name"


@pytest.mark.parametrize("broken", [
    "param a string = 'x'\nresource r 'A/b@2024-01-01' = {\n  name: 'x'\n",   # unclosed body
    "param a string = \nresource r = {}\n",                                   # no default, no type
])
def test_broken_bicep_is_refused_by_both_readers(grammar: BicepParser, broken: str):
    with pytest.raises(Exception):  # noqa: B017 (lark and our reader raise their own errors)
        grammar.parse(text=broken)
    with pytest.raises(ValueError):
        read_bicep_text(broken)
