"""What a running deployment has done so far, from its operations list (REST shape)."""

from typing import Any

from payloads.steps import ResourceProgress

DONE = "Succeeded"


def resource_progress(operations: list[dict[str, Any]]) -> list[ResourceProgress]:
    """Each resource the deployment touched, once, with its latest state (operations without a resource skipped)."""
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    for operation in operations:
        properties = operation.get("properties") or {}
        target = properties.get("targetResource") or {}
        if not target.get("resourceType"):
            continue
        key = (str(target["resourceType"]), str(target.get("resourceName") or "?"))
        stamp, state = str(properties.get("timestamp") or ""), str(properties.get("provisioningState") or "Running")
        if key not in latest or stamp >= latest[key][0]:
            latest[key] = (stamp, state)
    return [ResourceProgress(type=kind, name=name, state=state) for (kind, name), (_, state) in latest.items()]


def progress_line(resources: list[ResourceProgress]) -> str:
    """'1 of 2 resources done; running: Microsoft.App/containerApps 'chat'' (or that none has started yet)."""
    if not resources:
        return "no resource started yet"
    done = sum(1 for resource in resources if resource.state == DONE)
    running = [f"{resource.type} '{resource.name}'" for resource in resources if resource.state != DONE]
    line = f"{done} of {len(resources)} resources done"
    return f"{line}; running: {', '.join(running)}" if running else line
