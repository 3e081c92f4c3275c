"""A failed deployment, told the way a user can act on it: which resource, ARM's code and message, what to do.

Works on the REST shapes (`as_dict()` of the SDK's models): the deployment's `properties.error` and the operations
list, whose failed entries carry `targetResource` and `statusMessage.error`. Resource providers nest errors, and
sometimes put a JSON document in a message; the most specific error is the one with advice, else the deepest.
"""

import json
from collections.abc import Iterator
from typing import Any

from targets.azure.arm.template import allowed_values

MAX_MESSAGE_CHARS = 400
MAX_RESOURCES = 3
WRAPPER_CODES = frozenset({"deploymentfailed", "resourcedeploymentfailure", "conflict", "badrequest",
                           "multipleerrorsoccurred", "resourceoperationfailure"})
"""Codes that only say "something inside failed"; the error under them is the one to show."""


def advice(code: str, message: str) -> str | None:
    """What to do about an ARM error code, or None when there is nothing specific to say."""
    text = f"{code} {message}".lower()
    profiles = ", ".join(allowed_values("gpuProfileType"))
    if "quota" in text:
        return ("the subscription's quota for this GPU profile in this region is used up: request more quota "
                "(Azure portal, Quotas, or a support request for Container Apps GPUs), or provision in another region "
                f"(location) or on another GPU profile (gpu_profile_type: {profiles})")
    if "workloadprofile" in text or "workload profile" in text:
        return (f"gpu_profile_type must be one of {profiles} and available in the "
                "region; in a reused environment gpu_profile_name must name one of its profiles (az containerapp env "
                "workload-profile list), and a dedicated profile can only be added when the environment is created")
    if code == "StorageAccountAlreadyTaken" or "alreadytaken" in text:
        return ("storage account names are global across all of Azure: choose another storage_account_name "
                "(3-24 lowercase letters and digits)")
    if code in ("ResourceNotFound", "ParentResourceNotFound", "ResourceGroupNotFound"):
        return ("a resource the template reuses does not exist: name it in resources_to_create "
                f"({', '.join(allowed_values('resourcesToCreate'))}) so provisioning creates it, or pass the names "
                "of existing resources")
    if "authorization" in code.lower():
        return "the function app's identity lacks a role for this: grant the roles in README, Deploy to Azure"
    return None


def _nested_from_message(message: str) -> dict[str, Any] | None:
    if not message.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(message)
    except ValueError:
        return None
    if isinstance(parsed, dict):
        inner = parsed.get("error", parsed)
        return inner if isinstance(inner, dict) and inner.get("code") else None
    return None


def _errors(error: dict[str, Any], depth: int = 0) -> Iterator[tuple[int, str, str]]:
    """Every (depth, code, message) in an ARM error tree, messages that are JSON errors opened."""
    code, message = str(error.get("code") or ""), str(error.get("message") or "")
    nested = _nested_from_message(message)
    if nested is not None:
        yield from _errors(nested, depth + 1)
    elif code:
        yield depth, code, message
    for detail in error.get("details") or []:
        if isinstance(detail, dict):
            yield from _errors(detail, depth + 1)


def specific_error(error: dict[str, Any]) -> tuple[str, str]:
    """The error to show: the first with advice, else the deepest that is more than a wrapper."""
    found = list(_errors(error))
    if not found:
        return "Unknown", "the deployment failed without an error message"
    with_advice = [(code, message) for _, code, message in found if advice(code, message)]
    if with_advice:
        return with_advice[0]
    specific = [item for item in found if item[1].lower() not in WRAPPER_CODES] or found
    _, code, message = max(specific, key=lambda item: item[0])
    return code, message


def _shortened(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_MESSAGE_CHARS else flat[: MAX_MESSAGE_CHARS - 1] + "…"


def failed_resources(operations: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, error) of each operation that failed on a resource, in the list's order, once per resource."""
    seen: set[tuple[str, str]] = set()
    failed: list[tuple[str, str, dict[str, Any]]] = []
    for operation in operations:
        properties = operation.get("properties") or {}
        target = properties.get("targetResource") or {}
        error = (properties.get("statusMessage") or {}).get("error")
        if properties.get("provisioningState") != "Failed" or not target or not isinstance(error, dict):
            continue
        key = (str(target.get("resourceType") or "resource"), str(target.get("resourceName") or "?"))
        if key not in seen:
            seen.add(key)
            failed.append((*key, error))
    return failed


def _describe(code: str, message: str) -> str:
    told = f"{code}: {_shortened(message)}"
    return f"{told}; what to do: {hint}" if (hint := advice(code, message)) else told


def failure_summary(deployment_name: str, error: dict[str, Any] | None, operations: list[dict[str, Any]]) -> str:
    """One readable sentence (or a few) naming each failed resource, ARM's code and message, and what to do."""
    failed = failed_resources(operations)
    if failed:
        parts = [f"{kind} '{name}' failed: {_describe(*specific_error(found))}"
                 for kind, name, found in failed[:MAX_RESOURCES]]
        more = f" (and {len(failed) - MAX_RESOURCES} more)" if len(failed) > MAX_RESOURCES else ""
        return f"ARM deployment '{deployment_name}': " + "; ".join(parts) + more
    code, message = specific_error(error or {})
    return f"ARM deployment '{deployment_name}' failed: {_describe(code, message)}"
