"""Traffic of a container app: which revisions the ingress sends requests to, by weight, and their labels.

Single revision mode: the current revision (the latest, while active) takes everything, whatever ingress.traffic
says. Multiple mode: ingress.traffic names revisions (`revisionName`) or the latest one (`latestRevision: true`),
each with a weight; the weights must add up to 100, each revision appears once, and a label names at most one
revision (Container Apps' rules, with its error codes). A label's revision is reachable by its own URL whatever
its weight; here that is the revision's own loopback URL (its fqdn), as there is no DNS for `<app>---<label>`.
"""

import random
from typing import Any

from tests.simulators.container_apps.replies import ArmError

ROUTE_ALL = 100


def entries(configuration: dict[str, Any]) -> list[dict[str, Any]]:
    """ingress.traffic as written (latestRevision when none is given)."""
    ingress = configuration.get("ingress") or {}
    return list(ingress.get("traffic") or [{"latestRevision": True, "weight": ROUTE_ALL}])


def is_multiple(configuration: dict[str, Any]) -> bool:
    """Whether activeRevisionsMode is Multiple."""
    return str(configuration.get("activeRevisionsMode") or "Single").lower() == "multiple"


def weights(configuration: dict[str, Any], latest: str | None, current: str | None) -> dict[str, int]:
    """{revision name: weight} of the revisions that take traffic."""
    if not is_multiple(configuration):
        return {current: ROUTE_ALL} if current else {}
    found: dict[str, int] = {}
    for entry in entries(configuration):
        name = latest if entry.get("latestRevision") else entry.get("revisionName")
        if name and int(entry.get("weight") or 0) > 0:
            found[name] = found.get(name, 0) + int(entry["weight"])
    return found


def labels(configuration: dict[str, Any], latest: str | None) -> dict[str, str]:
    """{label: revision name}."""
    return {str(entry["label"]): str(latest if entry.get("latestRevision") else entry.get("revisionName"))
            for entry in entries(configuration) if entry.get("label")}


def check_traffic(configuration: dict[str, Any], revisions: set[str], latest: str | None) -> None:
    """400 for traffic Container Apps refuses: unknown revisions, weights not adding to 100, a label twice."""
    if not is_multiple(configuration):
        return
    listed = entries(configuration)
    total = sum(int(entry.get("weight") or 0) for entry in listed)
    if total != ROUTE_ALL:
        raise ArmError(400, "ContainerAppInvalidTrafficWeight",
                       f"The traffic weights of container app revisions must add up to 100; they add up to {total}.")
    named = [entry.get("revisionName") for entry in listed if not entry.get("latestRevision")]
    if unknown := [name for name in named if name not in revisions]:
        raise ArmError(400, "ContainerAppRevisionNotFound", f"Revision(s) {unknown} in ingress.traffic do not exist.")
    if latest is None and any(entry.get("latestRevision") for entry in listed):
        raise ArmError(400, "ContainerAppRevisionNotFound", "latestRevision traffic needs a revision")
    if len(set(named)) != len(named):
        raise ArmError(400, "ContainerAppDuplicateRevisionTraffic", "A revision may appear once in ingress.traffic.")
    given = [entry["label"] for entry in listed if entry.get("label")]
    if len(set(given)) != len(given):
        raise ArmError(400, "ContainerAppDuplicateTrafficLabel", f"Traffic labels must be unique: {given}.")


def pick(shares: dict[str, int]) -> str | None:
    """A revision drawn by weight (None without traffic)."""
    if not shares:
        return None
    names = list(shares)
    return random.choices(names, weights=[shares[name] for name in names])[0]
