"""What ARM checks before a deployment starts, and the resources it will deploy in which order.

Before starting (a 400 on the PUT): the template's shape (a `resources` array; copy loops, nested resources and
symbolic-name templates are not simulated), every expression parses and calls functions ARM has and this simulator
implements, the parameters bind (see parameters.py), and each resource's condition, type, name, apiVersion and
dependsOn evaluate. A resource whose condition is false is left out, and so is a dependency on it. A dependency on a
resource the template does not declare, or a cycle, is refused.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.infra.arm_expressions import ExpressionError, calls, parse, unknown_functions
from tests.infra.arm_template import expressions, where
from tests.simulators.arm.parameters import Parameters, invalid, request_values
from tests.simulators.arm.template_engine import SIMULATED_FUNCTIONS, Evaluator, Scope, TemplateError, resource_id

BODY_KEYS = ("location", "sku", "kind", "properties", "identity", "tags", "zones", "plan", "extendedLocation")
META_KEYS = ("condition", "type", "apiVersion", "name", "dependsOn", "comments", "metadata")


@dataclass
class PlannedResource:
    """One resource the deployment writes: what identifies it, and its unevaluated body."""

    index: int
    type: str
    api_version: str
    name: str
    id: str
    source: dict[str, Any]
    depends_on: list[str] = field(default_factory=list)


def check_functions(template: Mapping[str, Any]) -> None:
    """400 for an expression that does not parse or calls a function ARM lacks or the simulator does not implement."""
    for path, text in expressions(template):
        try:
            tree = parse(text)
        except ExpressionError as error:
            raise invalid(f"The template expression at '{where(path)}' is not valid: {error}") from error
        if unknown := unknown_functions(tree):
            raise invalid(f"The template function '{unknown[0]}' at '{where(path)}' is not valid. Please see "
                          "https://aka.ms/arm-functions for usage details")
        for call in calls(tree):
            if call.name.lower() not in SIMULATED_FUNCTIONS:
                raise TemplateError("NotSimulated", f"The template function '{call.name}' at '{where(path)}' is an "
                                                    "ARM function this simulator does not implement.")


def _shape(template: Any) -> list[dict[str, Any]]:
    if not isinstance(template, Mapping):
        raise TemplateError("InvalidRequestContent", "properties.template must be a JSON object.")
    resources = template.get("resources")
    if not isinstance(resources, list):
        raise TemplateError("NotSimulated", "only templates whose resources are an array are simulated")
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict):
            raise invalid(f"The resource at index {index} is not a JSON object")
        for key in ("copy", "resources", "scope"):
            if key in resource:
                raise TemplateError("NotSimulated", f"resources[{index}].{key} is not simulated")
        if unknown := set(resource) - set(BODY_KEYS) - set(META_KEYS):
            raise invalid(f"The resource at index {index} has properties ARM does not know: {sorted(unknown)}")
    return resources


def _planned(evaluator: Evaluator, scope: Scope, index: int, resource: dict[str, Any]) -> PlannedResource | None:
    condition = evaluator.value(resource.get("condition", True))
    if not isinstance(condition, bool):
        raise invalid(f"The condition of resources[{index}] is not a Boolean")
    if not condition:
        return None
    kind, name, api_version = (evaluator.value(resource.get(key)) for key in ("type", "name", "apiVersion"))
    if not all(isinstance(value, str) and value for value in (kind, name, api_version)):
        raise invalid(f"resources[{index}] needs type, name and apiVersion strings")
    identifier = resource_id(scope, kind, name.split("/"))
    planned = PlannedResource(index, kind, api_version, name, identifier, resource)
    planned.depends_on = [str(evaluator.value(entry)) for entry in resource.get("dependsOn") or []]
    return planned


def _resolve(planned: list[PlannedResource], declared: list[str]) -> None:
    """dependsOn entries as the IDs of planned resources; ones left out by their condition are dropped."""
    by_id = {resource.id.lower(): resource for resource in planned}
    for resource in planned:
        resolved = []
        for entry in resource.depends_on:
            target = entry.lower()
            match = by_id.get(target) or next(
                (other for other in planned if other.name.lower() == target
                 or f"{other.type}/{other.name}".lower() == target), None)
            if match is not None:
                resolved.append(match.id.lower())
            elif target not in declared and not any(target.endswith(f"/{name}") for name in declared):
                raise invalid(f"The resource '{entry}' is not defined in the template")
        resource.depends_on = resolved


def order(planned: list[PlannedResource]) -> list[PlannedResource]:
    """Template order, each resource after its dependencies; 400 on a cycle."""
    done: set[str] = set()
    ordered: list[PlannedResource] = []
    waiting = list(planned)
    while waiting:
        ready = [resource for resource in waiting if set(resource.depends_on) <= done]
        if not ready:
            raise invalid(f"Circular dependency detected on resource: '{waiting[0].id}'")
        ordered.append(ready[0])
        done.add(ready[0].id.lower())
        waiting.remove(ready[0])
    return ordered


def plan(template: Any, parameters: Any, scope: Scope) -> tuple[list[PlannedResource], Parameters]:
    """The resources to deploy, in order, and the bound parameters; TemplateError for what ARM refuses up front."""
    resources = _shape(template)
    check_functions(template)
    bound = Parameters(template, request_values(template, parameters))
    evaluator = Evaluator(template, scope, bound, None)
    bound.evaluator = evaluator
    bound.bind_all()
    planned = [found for index, resource in enumerate(resources)
               if (found := _planned(evaluator, scope, index, resource)) is not None]
    declared = []
    for resource in resources:
        kind, name = (evaluator.value(resource.get(key)) for key in ("type", "name"))
        declared.append(resource_id(scope, str(kind), str(name).split("/")).lower())
    _resolve(planned, declared)
    return order(planned), bound
