"""The ARM front door: resource groups and resource-group deployments, and every other path to Container Apps.

Same authentication as the Container Apps simulator (a bearer token for https://management.azure.com from the
identity simulator's registry, else 401). Resource groups (api-version 2025-04-01): PUT (201 then 200), GET, HEAD
(204/404); names are case-insensitive, the ID keeps the name as first created. Deployments (api-version 2026-06-01):
PUT (201 + Azure-AsyncOperation + Location + Retry-After; 409 DeploymentActive while one of that name runs; 400 for
what ARM refuses before starting), GET, HEAD, the operation status and result URLs, and the operations list.
"""

import re
import threading
from collections.abc import Callable
from typing import Any

from tests.simulators.arm.deployments import DeploymentRecord, Runner
from tests.simulators.arm.plan import plan
from tests.simulators.arm.resource_providers import ResourceProviders
from tests.simulators.arm.template_engine import Scope, TemplateError
from tests.simulators.container_apps import ARM_AUDIENCE, ContainerAppsApp
from tests.simulators.container_apps.replies import ArmError, authorize, error_reply, json_reply
from tests.simulators.container_apps.writes import json_body
from tests.simulators.https_server import Request, Response
from tests.simulators.identity import TokenRegistry

GROUPS_API = "2025-04-01"
DEPLOYMENTS_API = "2026-06-01"
GROUP = r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)"
DEPLOYMENT = GROUP + r"/providers/Microsoft\.Resources/deployments/(?P<name>[^/]+)"
OPERATIONS = GROUP + r"/deployments/(?P<name>[^/]+)/operations"
DEPLOYMENT_NAME = re.compile(r"^[-\w._()]{1,64}$")
Handler = Callable[[Request, "re.Match[str]"], Response]


class ArmApp:
    """ARM for one subscription; its resources live in `providers` (Files and Container Apps simulators)."""

    def __init__(self, tokens: TokenRegistry, subscription: str, providers: ResourceProviders,
                 container_apps: ContainerAppsApp, retry_after_s: int = 1, accept_s: float = 0.5) -> None:
        self.tokens = tokens
        self.subscription = subscription
        self.providers = providers
        self.container_apps = container_apps
        self.retry_after_s = retry_after_s
        self.lock = threading.RLock()
        self.runner = Runner(providers, self.lock, accept_s)
        self.groups: dict[str, dict[str, Any]] = {}
        self.deployments: dict[tuple[str, str], DeploymentRecord] = {}
        self.routes: list[tuple[str, re.Pattern[str], str, str, Handler]] = [
            (method, re.compile(pattern + "$", re.IGNORECASE), name, api, handler)
            for method, pattern, name, api, handler in (
                ("PUT", GROUP, "CreateOrUpdateResourceGroup", GROUPS_API, self._put_group),
                ("GET", GROUP, "GetResourceGroup", GROUPS_API, self._get_group),
                ("HEAD", GROUP, "CheckResourceGroupExistence", GROUPS_API, self._head_group),
                ("PUT", DEPLOYMENT, "CreateOrUpdateDeployment", DEPLOYMENTS_API, self._put_deployment),
                ("GET", DEPLOYMENT, "GetDeployment", DEPLOYMENTS_API, self._get_deployment),
                ("HEAD", DEPLOYMENT, "CheckDeploymentExistence", DEPLOYMENTS_API, self._head_deployment),
                ("GET", DEPLOYMENT + r"/operationStatuses/(?P<op>[^/]+)", "GetDeploymentOperationStatus",
                 DEPLOYMENTS_API, self._operation_status),
                ("GET", DEPLOYMENT + r"/operationResults/(?P<op>[^/]+)", "GetDeploymentOperationResult",
                 DEPLOYMENTS_API, self._operation_result),
                ("GET", OPERATIONS, "ListDeploymentOperations", DEPLOYMENTS_API, self._list_operations),
                ("GET", OPERATIONS + r"/(?P<op>[^/]+)", "GetDeploymentOperation", DEPLOYMENTS_API,
                 self._get_operation),
            )
        ]

    def add_resource_group(self, name: str, location: str) -> None:
        """A resource group that exists already."""
        with self.lock:
            self.groups.setdefault(name.lower(), self._group_body(name, location, {}))

    def handle(self, request: Request) -> Response:
        """Authenticate, route (Container Apps paths to its simulator), run; errors as CloudError."""
        name = "Authenticate"
        try:
            authorize(self.tokens, request, ARM_AUDIENCE)
            route = self._route(request)
            if route is None:
                return self.container_apps.handle(request)
            name, handler, match = route
            if match["sub"] != self.subscription:
                raise ArmError(404, "SubscriptionNotFound", f"The subscription '{match['sub']}' could not be found.")
            return handler(request, match)
        except (ArmError, TemplateError) as error:
            status = error.status if isinstance(error, ArmError) else 400
            response = self.error(status, error.code, error.message)
            response.operation = f"{name}:{error.code}"
            return response

    def error(self, status: int, code: str, message: str) -> Response:
        """An ARM CloudError reply."""
        return error_reply(status, code, message)

    def _route(self, request: Request) -> tuple[str, Handler, "re.Match[str]"] | None:
        for method, pattern, name, api, handler in self.routes:
            if method == request.method and (match := pattern.match(request.path)):
                if request.query.get("api-version") != api:
                    raise ArmError(400, "InvalidApiVersionParameter", f"api-version must be {api} for {name}")
                return name, handler, match
        return None

    def _group_body(self, name: str, location: str, tags: dict[str, str]) -> dict[str, Any]:
        return {"id": f"/subscriptions/{self.subscription}/resourceGroups/{name}", "name": name,
                "type": "Microsoft.Resources/resourceGroups", "location": location, "tags": tags,
                "properties": {"provisioningState": "Succeeded"}}

    def _group(self, match: "re.Match[str]") -> dict[str, Any]:
        group = self.groups.get(match["rg"].lower())
        if group is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{match['rg']}' could not be found.")
        return group

    def _put_group(self, request: Request, match: "re.Match[str]") -> Response:
        body = json_body(request.body)
        if not isinstance(body, dict) or not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if unknown := set(body) - {"location", "tags", "managedBy", "properties"}:
            raise ArmError(400, "InvalidRequestContent", f"The request has unknown properties {sorted(unknown)}")
        with self.lock:
            existing = self.groups.get(match["rg"].lower())
            if existing is not None and existing["location"].lower() != str(body["location"]).lower():
                raise ArmError(409, "InvalidResourceGroupLocation",
                               f"Invalid resource group location '{body['location']}'. The Resource group already "
                               f"exists in location '{existing['location']}'.")
            name = existing["name"] if existing else match["rg"]
            group = self._group_body(name, existing["location"] if existing else body["location"],
                                     body.get("tags") or {})
            self.groups[match["rg"].lower()] = group
        return json_reply(200 if existing else 201, "CreateOrUpdateResourceGroup", group)

    def _get_group(self, request: Request, match: "re.Match[str]") -> Response:
        return json_reply(200, "GetResourceGroup", self._group(match))

    def _head_group(self, request: Request, match: "re.Match[str]") -> Response:
        exists = match["rg"].lower() in self.groups
        return json_reply(204 if exists else 404, "CheckResourceGroupExistence")

    def _deployment(self, match: "re.Match[str]") -> DeploymentRecord:
        self._group(match)
        record = self.deployments.get((match["rg"].lower(), match["name"].lower()))
        if record is None:
            raise ArmError(404, "DeploymentNotFound", f"Deployment '{match['name']}' could not be found.")
        return record

    def _put_deployment(self, request: Request, match: "re.Match[str]") -> Response:
        group = self._group(match)
        name = match["name"]
        if not DEPLOYMENT_NAME.match(name):
            raise ArmError(400, "InvalidDeploymentName",
                           f"The deployment name '{name}' is invalid: 1-64 letters, digits, '-', '.', '_', '(' or ')'.")
        properties = deployment_properties(json_body(request.body))
        scope = Scope(self.subscription, group["name"], group["location"])
        planned, parameters = plan(properties["template"], properties.get("parameters"), scope)
        key = (match["rg"].lower(), name.lower())
        with self.lock:
            existing = self.deployments.get(key)
            if existing is not None and existing.active:
                raise ArmError(409, "DeploymentActive",
                               f"The deployment with resource id '{existing.id}' cannot be saved, because this would "
                               "overwrite an existing deployment which is still active.")
            record = DeploymentRecord(scope, name, "Incremental", properties["template"], planned, parameters)
            self.deployments[key] = record
            body = record.body()
        self.runner.start(record)
        base = f"https://{request.header('Host')}{record.id}"
        headers = {"Azure-AsyncOperation": f"{base}/operationStatuses/{record.status_id}?api-version={DEPLOYMENTS_API}",
                   "Location": f"{base}/operationResults/{record.status_id}?api-version={DEPLOYMENTS_API}",
                   "Retry-After": str(self.retry_after_s)}
        return json_reply(201, "CreateOrUpdateDeployment", body, headers)

    def _get_deployment(self, request: Request, match: "re.Match[str]") -> Response:
        with self.lock:
            return json_reply(200, "GetDeployment", self._deployment(match).body())

    def _head_deployment(self, request: Request, match: "re.Match[str]") -> Response:
        self._group(match)
        exists = (match["rg"].lower(), match["name"].lower()) in self.deployments
        return json_reply(204 if exists else 404, "CheckDeploymentExistence")

    def _status_record(self, match: "re.Match[str]") -> DeploymentRecord:
        record = self._deployment(match)
        if record.status_id != match["op"]:
            raise ArmError(404, "OperationNotFound", f"The operation '{match['op']}' was not found.")
        return record

    def _operation_status(self, request: Request, match: "re.Match[str]") -> Response:
        with self.lock:
            record = self._status_record(match)
            headers = {"Retry-After": str(self.retry_after_s)} if record.active else {}
            return json_reply(200, "GetDeploymentOperationStatus", record.status_body(), headers)

    def _operation_result(self, request: Request, match: "re.Match[str]") -> Response:
        with self.lock:
            record = self._status_record(match)
            if record.active:
                headers = {"Location": f"https://{request.header('Host')}{request.path}?api-version={DEPLOYMENTS_API}",
                           "Retry-After": str(self.retry_after_s)}
                return json_reply(202, "GetDeploymentOperationResult", None, headers)
            if record.state == "Failed":
                return json_reply(400, "GetDeploymentOperationResult", {"error": record.error})
            return json_reply(204, "GetDeploymentOperationResult")

    def _list_operations(self, request: Request, match: "re.Match[str]") -> Response:
        top = request.query.get("$top")
        with self.lock:
            record = self._deployment(match)
            operations = [operation.body(record.id) for operation in record.operations]
        return json_reply(200, "ListDeploymentOperations", {"value": operations[:int(top)] if top else operations})

    def _get_operation(self, request: Request, match: "re.Match[str]") -> Response:
        with self.lock:
            record = self._deployment(match)
            for operation in record.operations:
                if operation.operation_id == match["op"]:
                    return json_reply(200, "GetDeploymentOperation", operation.body(record.id))
        raise ArmError(404, "DeploymentOperationNotFound", f"Deployment operation '{match['op']}' could not be found.")


def deployment_properties(body: Any) -> dict[str, Any]:
    """The PUT body's properties, checked: mode Incremental (Complete is not simulated) and an inline template."""
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                     "'Required property 'properties' not found in JSON.'")
    if unknown := set(body) - {"location", "tags", "identity", "properties"}:
        raise ArmError(400, "InvalidRequestContent", f"The request content has unknown properties {sorted(unknown)}")
    properties = body["properties"]
    mode = str(properties.get("mode") or "")
    if mode.lower() not in ("incremental", "complete"):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                                     f"properties.mode must be Incremental or Complete, not '{mode}'.")
    if mode.lower() == "complete":
        raise ArmError(400, "NotSimulated", "Complete mode (deleting resources the template lacks) is not simulated")
    for key in ("templateLink", "parametersLink", "onErrorDeployment", "debugSetting"):
        if key in properties:
            raise ArmError(400, "NotSimulated", f"properties.{key} is not simulated")
    if not isinstance(properties.get("template"), dict):
        raise ArmError(400, "InvalidRequestContent", "properties.template must be the template's JSON object")
    return properties
