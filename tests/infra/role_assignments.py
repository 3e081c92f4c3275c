"""Role assignments declared in Bicep: who gets which built-in role, on what, and whether each is named well."""

import re
from dataclasses import dataclass
from pathlib import Path

from tests.infra.bicep_reader import BicepFile, read_bicep_text

ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
ROLE_VARIABLE = re.compile(r"^var\s+(\w+)\s*=\s*'([0-9a-fA-F-]{36})'\s*(?://\s*(.*?))?\s*$", re.MULTILINE)
GUID_CALL = re.compile(r"^guid\((.*)\)$", re.DOTALL)
ROLE_DEFINITION = re.compile(r"^subscriptionResourceId\('Microsoft\.Authorization/roleDefinitions',\s*(\w+)\)$")


@dataclass(frozen=True)
class RoleVariable:
    """A role-definition GUID held in a variable, with the role name written beside it."""

    guid: str
    comment: str | None


@dataclass(frozen=True)
class RoleAssignment:
    """One roleAssignments resource as written."""

    file: str
    symbol: str
    name: str
    principal: str
    role_definition: str
    scope: str | None
    scope_type: str
    conditional: bool


def top_level_split(text: str) -> list[str]:
    """Split call arguments at commas that are not inside brackets or strings."""
    parts, depth, in_string, current = [], 0, False, ""
    for char in text:
        if char == "'":
            in_string = not in_string
        elif not in_string and char in "([{":
            depth += 1
        elif not in_string and char in ")]}":
            depth -= 1
        if char == "," and depth == 0 and not in_string:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()] if current.strip() else parts


def body_property(body: str, key: str) -> str | None:
    """The text after `key:` on a line of a resource body (first match, any depth)."""
    match = re.search(rf"^\s*{key}:\s*(.+?)\s*$", body, re.MULTILINE)
    return match.group(1) if match else None


def role_variables(text: str) -> dict[str, RoleVariable]:
    """`var name = '<guid>' // Role Name` declarations of a Bicep file."""
    return {match.group(1): RoleVariable(match.group(2).lower(), match.group(3) or None)
            for match in ROLE_VARIABLE.finditer(text)}


def role_assignments(file: str, text: str) -> list[RoleAssignment]:
    """The role assignments a Bicep file declares."""
    bicep: BicepFile = read_bicep_text(text)
    found = []
    for resource in bicep.resources.values():
        if resource.type != ROLE_ASSIGNMENT_TYPE:
            continue
        scope = body_property(resource.body, "scope")
        scope_type = bicep.resources[scope].type if scope in bicep.resources else "resourceGroup"
        found.append(RoleAssignment(
            file=file, symbol=resource.symbol, name=body_property(resource.body, "name") or "",
            principal=body_property(resource.body, "principalId") or "",
            role_definition=body_property(resource.body, "roleDefinitionId") or "",
            scope=scope, scope_type=scope_type, conditional=resource.condition is not None,
        ))
    return found


def assignment_role(assignment: RoleAssignment, variables: dict[str, RoleVariable]) -> RoleVariable | None:
    """The role an assignment grants, through its roleDefinitionId variable."""
    match = ROLE_DEFINITION.match(assignment.role_definition)
    return variables.get(match.group(1)) if match else None


def naming_problems(assignment: RoleAssignment, variables: dict[str, RoleVariable],
                    known_roles: dict[str, str]) -> list[str]:
    """Whether an assignment is named guid(scope id, principal, role) and its role is a commented, known GUID."""
    where = f"{assignment.file}:{assignment.symbol}"
    problems: list[str] = []
    definition = ROLE_DEFINITION.match(assignment.role_definition)
    if definition is None:
        return [f"{where}: roleDefinitionId must be subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
                f"<variable>), got {assignment.role_definition!r}"]
    role_var = definition.group(1)
    role = variables.get(role_var)
    if role is None:
        problems.append(f"{where}: {role_var} is not a role-definition GUID variable")
    elif not role.comment:
        problems.append(f"{where}: no role name written beside the GUID of {role_var}")
    elif known_roles.get(role.guid) != role.comment:
        problems.append(f"{where}: {role.guid} is {known_roles.get(role.guid)!r}, the comment says {role.comment!r}")
    call = GUID_CALL.match(assignment.name)
    args = top_level_split(call.group(1)) if call else []
    scope_id = f"{assignment.scope}.id" if assignment.scope else "resourceGroup().id"
    if args != [scope_id, assignment.principal, role_var]:
        problems.append(f"{where}: name must be guid({scope_id}, {assignment.principal}, {role_var}), "
                        f"got {assignment.name!r}")
    return problems


def infra_role_assignments(infra: Path) -> tuple[list[RoleAssignment], dict[str, dict[str, RoleVariable]]]:
    """Every role assignment under a folder of Bicep files, and each file's role variables."""
    assignments: list[RoleAssignment] = []
    variables: dict[str, dict[str, RoleVariable]] = {}
    for path in sorted(infra.rglob("*.bicep")):
        text = path.read_text()
        name = path.relative_to(infra).as_posix()
        assignments += role_assignments(name, text)
        variables[name] = role_variables(text)
    return assignments, variables
