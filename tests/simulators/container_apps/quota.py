"""Where an app may run: a workload profile of its environment, and GPU instances within the subscription's quota.

A dedicated GPU profile needs its maximumCount nodes, a serverless GPU profile the app's maxReplicas (default 10);
with `quota` None (the default) GPU quota is unlimited. In Multiple revision mode every active revision scales on
its own, so a serverless profile needs maxReplicas for each revision that would run after the write.
Error codes and wording follow Container Apps' refusals.
"""

from typing import Any

from tests.simulators.container_apps.environments import GPU_TYPES, SERVERLESS_TYPES, EnvironmentRecord
from tests.simulators.container_apps.replies import ArmError

DEFAULT_MAX_REPLICAS = 10


def check_placement(app_name: str, document: dict[str, Any], environment: EnvironmentRecord,
                    quota: int | None, revisions: int = 1) -> None:
    """400 when the app's workload profile is not in its environment, or its GPUs exceed the quota."""
    properties = document.get("properties") or {}
    profiles = environment.profiles()
    name = properties.get("workloadProfileName")
    if not name or not profiles:
        return
    profile = profiles.get(str(name))
    if profile is None:
        raise ArmError(400, "WorkloadProfileNotFound",
                       f"The workload profile '{name}' was not found in managed environment '{environment.name}'; "
                       f"it has: {', '.join(sorted(profiles))}.")
    kind = str(profile.get("workloadProfileType"))
    if kind not in GPU_TYPES or quota is None:
        return
    scale = (properties.get("template") or {}).get("scale") or {}
    replicas = int(scale.get("maxReplicas") or DEFAULT_MAX_REPLICAS) * revisions
    needed = replicas if kind in SERVERLESS_TYPES else int(profile.get("maximumCount") or 0)
    if needed > quota:
        location = document.get("location")
        raise ArmError(400, "MaxRegionalQuotaExceeded",
                       f"Operation cannot be completed without additional quota. Container app '{app_name}' needs "
                       f"{needed} {kind} GPU instance(s) in region '{location}', the subscription's quota allows "
                       f"{quota}. Request more GPU quota for Azure Container Apps through a support case.")
