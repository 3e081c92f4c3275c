"""Whether a revision serves: what Container Apps reports about it, then what the app's endpoint answers.

Serving means: the revision is Provisioned, Running and Healthy, it is the app's latest ready revision, and
GET <endpoint>/ready answers 200 from that revision (the server reports CONTAINER_APP_REVISION, which Container Apps
sets in every container), not from the revision it replaces. A revision whose provisioningState or runningState is
Failed, or that another revision superseded, has failed for good; anything else is progress.
"""

import requests
from azure.mgmt.appcontainers.models import (
    ContainerApp,
    ContainerAppProvisioningState,
    Replica,
    Revision,
    RevisionHealthState,
    RevisionProvisioningState,
    RevisionRunningState,
)

from payloads.steps import ReadinessResult

READY_TIMEOUT_S = 10.0
SERVING = (RevisionProvisioningState.PROVISIONED, RevisionRunningState.RUNNING, RevisionHealthState.HEALTHY)


def named(state: object) -> str:
    """A state as Azure spells it ("Failed"), whether the SDK gave an enum member or a string."""
    return str(getattr(state, "value", state))


def progress(detail: str) -> ReadinessResult:
    """Not ready yet."""
    return ReadinessResult(ready=False, detail=detail)


def failure(detail: str) -> ReadinessResult:
    """Failed for good."""
    return ReadinessResult(ready=False, failed=True, detail=detail)


def missing_revision(app: ContainerApp, revision: str) -> ReadinessResult:
    """The revision does not exist (yet): failed when the update that creates it failed."""
    state = named(app.properties.provisioning_state if app.properties else None)
    if state in (ContainerAppProvisioningState.FAILED, ContainerAppProvisioningState.CANCELED):
        return failure(f"revision {revision} was never created: the app's update ended {state}; deploy again")
    return progress(f"revision {revision} is being created (app provisioningState {state})")


def has_failed(revision: Revision) -> bool:
    """Whether Container Apps reports the revision's provisioning or running as Failed."""
    states = revision.properties
    return states is not None and (states.provisioning_state == RevisionProvisioningState.FAILED
                                   or states.running_state == RevisionRunningState.FAILED)


def revision_verdict(app: ContainerApp, revision: Revision) -> ReadinessResult | None:
    """Failed, superseded or starting per Container Apps; None when it reports the revision as serving."""
    name, states, latest = revision.name, revision.properties, app.properties
    if states is None or latest is None:
        return progress(f"revision {name} reports no state yet")
    if has_failed(revision):
        return failure(f"revision {name} failed: {states.provisioning_error or 'no error reported'}")
    if name not in (latest.latest_revision_name, latest.latest_ready_revision_name):
        return failure(f"revision {name} was superseded by {latest.latest_revision_name} (another deploy or a "
                       "change to the app's template); deploy again")
    current = (states.provisioning_state, states.running_state, states.health_state)
    if current != SERVING:
        provisioning, running, health = (named(state) for state in current)
        return progress(f"revision {name} is starting: provisioning {provisioning}, running {running}, "
                        f"health {health}")
    if latest.latest_ready_revision_name != name:
        return progress(f"revision {name} is healthy; the app still reports {latest.latest_ready_revision_name} "
                        "as its latest ready revision")
    return None


def replica_detail(app_name: str, revision: str, replicas: list[Replica]) -> str:
    """Each container's state in the revision's replicas, and where its console output is."""
    parts = [
        f"container {container.name}: {named(container.running_state)} ({container.running_state_details}), "
        f"restarted {container.restart_count} times"
        for replica in replicas
        for container in (replica.properties.containers if replica.properties else None) or []
    ]
    logs = (f"its console output is in the environment's Log Analytics workspace: ContainerAppConsoleLogs_CL where "
            f"ContainerAppName_s == '{app_name}' and RevisionName_s == '{revision}'")
    return "; ".join([*parts, logs])


def endpoint_verdict(endpoint: str, revision: str) -> ReadinessResult:
    """Ready when GET <endpoint>/ready answers 200 from `revision` itself."""
    try:
        reply = requests.get(f"{endpoint}/ready", timeout=READY_TIMEOUT_S)
    except requests.RequestException as error:
        return progress(f"revision {revision} is healthy but {endpoint}/ready does not answer yet "
                        f"({type(error).__name__})")
    if reply.status_code != 200:
        return progress(f"revision {revision} is loading ({endpoint}/ready answered {reply.status_code})")
    try:
        answered = reply.json().get("revision")
    except (ValueError, AttributeError):
        answered = None
    if answered != revision:
        return progress(f"{endpoint}/ready is answered by {answered or 'a server that names no revision'}, "
                        f"not yet by revision {revision}")
    return ReadinessResult(ready=True, detail=f"revision {revision} is ready at {endpoint}")
