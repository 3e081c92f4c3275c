"""The hosting infra grants each role the code needs, on the narrowest scope, and nothing broader."""

import pytest

from tests.infra.conftest import INFRA
from tests.infra.role_assignments import (
    RoleAssignment,
    RoleVariable,
    assignment_role,
    infra_role_assignments,
    naming_problems,
    role_assignments,
    role_variables,
)

STORAGE = "Microsoft.Storage/storageAccounts"
GROUP = "resourceGroup"
KNOWN_ROLES = {  # built-in role-definition GUIDs (MicrosoftDocs built-in roles reference)
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "f1a07417-d97a-45cb-824c-7a7467783830": "Managed Identity Operator",
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
    "358470bc-b998-42bd-ab17-a7e34c199c0f": "Container Apps Contributor",
    "ad2dd5fb-cd4b-4fd4-a9b6-4fed3630980b": "ContainerApp Reader",
    "69566ab7-960f-475b-8e7c-b3118f30c6bd": "Storage File Data Privileged Contributor",
    "57cc5028-e6a7-4284-868d-0611c5923f8d": "Container Apps ManagedEnvironments Contributor",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "92aaf0da-9dab-42b6-94a3-d43ce8d16293": "Log Analytics Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
BROAD_ROLES = {"Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"}

# (file, principal, role, scope type, only when creating shared resources is allowed), and why:
EXPECTED = {
    # Functions host storage with the identity: leases and the Flex deployment package...
    ("app/rbac.bicep", "functionPrincipalId", "Storage Blob Data Owner", STORAGE, False),
    # ...and the Durable task hub of the Azure Storage backend (queues, tables).
    ("app/rbac.bicep", "functionPrincipalId", "Storage Queue Data Contributor", STORAGE, False),
    ("app/rbac.bicep", "functionPrincipalId", "Storage Table Data Contributor", STORAGE, False),
    # Telemetry with Entra ID (Application Insights local auth is off).
    ("app/rbac.bicep", "functionPrincipalId", "Monitoring Metrics Publisher", "Microsoft.Insights/components", False),
    # The WEBHOOK_SECRET Key Vault reference.
    ("app/rbac.bicep", "functionPrincipalId", "Key Vault Secrets User", "Microsoft.KeyVault/vaults", False),
    # Attaching the pull identity to the inference apps it creates (assign/action on that identity only).
    ("app/rbac.bicep", "functionPrincipalId", "Managed Identity Operator",
     "Microsoft.ManagedIdentity/userAssignedIdentities", False),
    # The inference app pulls its image.
    ("app/rbac.bicep", "pullPrincipalId", "AcrPull", "Microsoft.ContainerRegistry/registries", False),
    # Provisioning in the fine-tuning group: the app and its revisions...
    ("app/inference-rbac.bicep", "functionPrincipalId", "Container Apps Contributor", GROUP, False),
    # ...the ARM deployment itself (Microsoft.Resources/deployments/*), otherwise read-only...
    ("app/inference-rbac.bicep", "functionPrincipalId", "ContainerApp Reader", GROUP, False),
    # ...and writing to the share with OAuth (token_intent="backup"), on its storage account only.
    ("app/inference-rbac.bicep", "functionPrincipalId", "Storage File Data Privileged Contributor", STORAGE, False),
    # Only with inferenceMayCreateResources: creating a missing environment, storage or workspace.
    ("app/inference-rbac.bicep", "functionPrincipalId", "Container Apps ManagedEnvironments Contributor", GROUP, True),
    ("app/inference-rbac.bicep", "functionPrincipalId", "Storage Account Contributor", GROUP, True),
    ("app/inference-rbac.bicep", "functionPrincipalId", "Log Analytics Contributor", GROUP, True),
}


def table(assignments: list[RoleAssignment],
          variables: dict[str, dict[str, RoleVariable]]) -> set[tuple[str, str, str, str, bool]]:
    """Who gets what, on what, as rows comparable with EXPECTED."""
    rows = set()
    for assignment in assignments:
        role = assignment_role(assignment, variables[assignment.file])
        name = KNOWN_ROLES.get(role.guid, role.guid) if role else assignment.role_definition
        rows.add((assignment.file, assignment.principal, name, assignment.scope_type, assignment.conditional))
    return rows


def test_each_role_the_code_needs_and_no_other():
    assignments, variables = infra_role_assignments(INFRA)
    assert table(assignments, variables) == EXPECTED
    assert len(assignments) == len(EXPECTED)


def test_no_broad_role_anywhere():
    _, variables = infra_role_assignments(INFRA)
    granted = {KNOWN_ROLES.get(role.guid) for by_file in variables.values() for role in by_file.values()}
    assert not granted & BROAD_ROLES


def test_each_assignment_is_named_guid_scope_principal_role_with_the_role_written_beside_it():
    assignments, variables = infra_role_assignments(INFRA)
    assert [p for a in assignments for p in naming_problems(a, variables[a.file], KNOWN_ROLES)] == []


def test_main_gives_each_module_the_right_principal():
    main = (INFRA / "main.bicep").read_text()
    assert "functionPrincipalId: identities.outputs.functionPrincipalId" in main
    assert "pullPrincipalId: identities.outputs.pullPrincipalId" in main
    assert main.count("functionPrincipalId: identities.outputs.functionPrincipalId") == 2


SNIPPET = """
param principalId string
var contributor = 'b24988ac-6180-42a0-ab88-20f7382dd24c' // Contributor
var pull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'
var misnamed = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // AcrPush
resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: 'cr'
}
resource broad 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, contributor)
  properties: {
    principalId: principalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributor)
  }
}
resource uncommented 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, principalId, pull)
  scope: registry
  properties: {
    principalId: principalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', pull)
  }
}
resource wrongComment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, principalId, misnamed)
  scope: registry
  properties: {
    principalId: principalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', misnamed)
  }
}
resource twoArgs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(principalId, pull)
  scope: registry
  properties: {
    principalId: principalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', pull)
  }
}
resource wrongScope 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, pull)
  scope: registry
  properties: {
    principalId: principalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', pull)
  }
}
resource literalRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, 'acdd72a7-3385-48ef-bd42-f606fba81ae7')
  properties: {
    principalId: principalId
    roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7'
  }
}
"""


@pytest.mark.parametrize(("symbol", "problem"), [
    ("uncommented", "no role name written beside the GUID of pull"),
    ("wrongComment", "is 'AcrPull', the comment says 'AcrPush'"),
    ("twoArgs", "name must be guid(registry.id, principalId, pull)"),
    ("wrongScope", "name must be guid(registry.id, principalId, pull), got 'guid(resourceGroup().id"),
    ("literalRole", "roleDefinitionId must be subscriptionResourceId"),
])
def test_naming_check_catches_badly_written_assignments(symbol: str, problem: str):
    variables = role_variables(SNIPPET)
    (assignment,) = [a for a in role_assignments("snippet.bicep", SNIPPET) if a.symbol == symbol]
    problems = naming_problems(assignment, variables, KNOWN_ROLES)
    assert any(problem in found for found in problems), problems


def test_role_table_catches_a_broad_or_unexpected_role():
    assignments = role_assignments("snippet.bicep", SNIPPET)
    rows = table(assignments, {"snippet.bicep": role_variables(SNIPPET)})
    assert ("snippet.bicep", "principalId", "Contributor", GROUP, False) in rows
    assert rows != EXPECTED
