"""Every expression in the compiled template parses and calls only functions ARM has."""

from typing import Any

import pytest

from tests.infra.arm_expressions import Call, ExpressionError, Index, Literal, Property, is_expression, parse
from tests.infra.arm_template import expression_problems, expressions, referenced_parameters


def test_every_expression_parses_and_names_only_arm_functions(inference_arm: dict[str, Any]):
    assert len(list(expressions(inference_arm))) > 50
    assert expression_problems(inference_arm) == []


def test_every_parameter_is_used(inference_arm: dict[str, Any]):
    assert referenced_parameters(inference_arm) == set(inference_arm["parameters"])


def test_parser_reads_calls_strings_numbers_and_accessors():
    tree = parse("[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'it''s'), '2024-01-01').keys[0].value]")
    assert tree == Property(
        Index(Property(Call("listKeys", (Call("resourceId", (Literal("Microsoft.Storage/storageAccounts"),
                                                               Literal("it's"))),
                                         Literal("2024-01-01"))), "keys"), Literal(0)),
        "value")
    assert parse("[createArray()]") == Call("createArray", ())
    assert parse("[ add( -1 , 2.5 ) ]") == Call("add", (Literal(-1), Literal(2.5)))


def test_an_escaped_bracket_is_a_literal_not_an_expression():
    assert not is_expression("[[not an expression]")
    assert is_expression("[variables('x')]")


@pytest.mark.parametrize("broken", [
    "[concat('a', )]",
    "[concat('a'",
    "[concat('a']",
    "['unterminated]",
    "[parameters]",
    "[concat('a') extra]",
    "[a.]",
    "[x(1)[0]",
    "[x(1) # 2]",
])
def test_parser_rejects_broken_expressions(broken: str):
    with pytest.raises(ExpressionError):
        parse(broken)


@pytest.mark.parametrize(("template", "problem"), [
    ({"variables": {"x": "[frobnicate(1)]"}}, "ARM has no function frobnicate()"),
    ({"variables": {"x": "[parameters('nope')]"}}, "parameters('nope') is not declared"),
    ({"variables": {"x": "[variables('y')]"}}, "variables('y') is not declared"),
    ({"outputs": {"o": {"type": "string", "value": "[concat('a',]"}}}, "expected"),
    ({"variables": {"[toUpper(1]": 1}}, "expected"),
])
def test_expression_check_reports_broken_templates(template: dict[str, Any], problem: str):
    problems = expression_problems(template)
    assert any(problem in found for found in problems), problems
