"""A simulated Azure Resource Manager that really deploys ARM JSON templates into the other simulators.

Implements: resource groups (PUT/GET/HEAD, api-version 2025-04-01); resource-group deployments (api-version
2026-06-01): PUT as a long-running operation (Accepted → Running → Succeeded/Failed; Azure-AsyncOperation, Location,
Retry-After), GET, HEAD, the status/result URLs, the operations list and one operation. A deployment binds the
parameters (defaults, request values, secure values hidden), evaluates variables and the expression functions
concat, contains, createArray, createObject, empty, equals, format, if, join, listKeys, or, parameters, reference,
resourceGroup, resourceId, string, subscription, substring, uniqueString and variables, honours `condition` and
`dependsOn`, writes Microsoft.Storage storageAccounts (+fileServices, shares → Azure Files simulator),
Microsoft.OperationalInsights workspaces, and Microsoft.App managedEnvironments (+storages) and containerApps
(→ Container Apps simulator), then evaluates the outputs. Incremental: a second deployment rewrites resources in
place (no share emptied, no revision for an unchanged app template).

Refuses (400 before starting): an unknown parameter, a missing required one, a wrong type (`"value": null`
included), a value outside allowedValues/minValue/maxValue, an expression that does not parse or calls a function
ARM lacks or this simulator does not implement, copy loops, nested resources, Complete mode, templateLink and Key
Vault parameter references. Fails the deployment (DeploymentFailed with the resource errors as details) for a
resource type it does not simulate, a property the resource's API version does not define, a storage account name
taken elsewhere (StorageAccountAlreadyTaken), an unknown workload profile type, or GPU beyond the configured quota
(MaxRegionalQuotaExceeded).
"""

from tests.simulators.arm.app import ArmApp
from tests.simulators.arm.resource_providers import ResourceProviders

__all__ = ["ArmApp", "ResourceProviders"]
