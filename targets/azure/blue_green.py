"""Blue-green revisions of the inference app: a candidate beside the serving revision, then one traffic switch.

start: one PATCH switches the app to Multiple revision mode (app-scope), adds the candidate's template (a new
revision `<app>--<suffix>`, the deterministic suffix of revision_plan) and sets the traffic: all of it on the serving
revision (label `current`), none on the candidate (label `candidate`). The gate reaches the candidate at its own URL
(the revision-specific FQDN; `https://<app>---candidate.<domain>` names it too). When no second replica can be had,
nothing is written and the result says why (`fallback`): the GPU profile is dedicated and its nodes are all taken by
the serving revision's replicas, or Container Apps refuses the PATCH for quota (serverless GPU).
promote: one PATCH puts all traffic on the candidate (label `current`, the candidate label gone; its LRO is waited
for, seconds: no revision starts), then every other revision is deactivated. Container Apps stops a deactivated
revision's replicas with SIGTERM and its terminationGracePeriodSeconds (120 s in the template): requests already on
it finish, and no new one reaches it since the traffic moved first. So "drained" is the platform's graceful stop, in
the same call. discard: the candidate's traffic entry is removed (the serving revision's weight is untouched) and
the candidate deactivated.
"""

import re

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.appcontainers import ContainerAppsAPIClient
from azure.mgmt.appcontainers.models import ContainerApp, Revision

from payloads.redeploy import CandidateResult
from targets.azure.traffic import (
    MULTIPLE,
    candidate_traffic,
    promoted_traffic,
    serving,
    traffic_patch,
    without,
)

SAFE_TO_REPEAT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "POST")
QUOTA_CODES = ("MaxRegionalQuotaExceeded", "InsufficientQuota", "QuotaExceeded")
TRAFFIC_UPDATE_TIMEOUT_S = 300
ENVIRONMENT_ID = re.compile(
    r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.App/managedEnvironments/(?P<env>[^/]+)", re.IGNORECASE)


class BlueGreen:
    """Candidate revisions of the container apps of one resource group."""

    def __init__(self, client: ContainerAppsAPIClient, resource_group: str) -> None:
        self._client = client
        self._group = resource_group

    def revisions(self, app_name: str) -> list[Revision]:
        """Every revision of the app."""
        return list(self._client.container_apps_revisions.list_revisions(self._group, app_name))

    def serving_revision(self, app_name: str, revisions: list[Revision]) -> Revision:
        """The revision with (most of) the traffic; LookupError without one."""
        found = serving(revisions)
        if not found:
            raise LookupError(f"container app {app_name!r} has no active revision with traffic: deploy with a restart")
        return found[0]

    def no_room(self, app: ContainerApp, current: Revision) -> str | None:
        """Why no second revision fits beside `current` on a dedicated GPU profile (None: it fits, or serverless)."""
        properties = app.properties
        match = ENVIRONMENT_ID.search(str(properties.environment_id or "")) if properties else None
        if properties is None or match is None:
            return None
        environment = self._client.managed_environments.get(match["rg"], match["env"])
        profiles = (environment.properties.workload_profiles or []) if environment.properties else []
        profile = next((p for p in profiles if p.name == properties.workload_profile_name), None)
        if profile is None or profile.maximum_count is None or str(profile.workload_profile_type).startswith(
                "Consumption"):
            return None
        scale = properties.template.scale if properties.template else None
        needed = max((scale.min_replicas or 0) if scale else 0, 1)
        taken = len(self._client.container_apps_revision_replicas.list_replicas(
            self._group, app.name or "", current.name or "").value)
        if taken + needed <= profile.maximum_count:
            return None
        return (f"the GPU workload profile {profile.name!r} has {profile.maximum_count} node(s) and the serving "
                f"revision {current.name} runs {taken} replica(s): no room for a candidate beside it (raise "
                "maximumInstanceCount to run blue-green)")

    def start(self, app: ContainerApp, current: Revision, suffix: str, containers: list[dict[str, object]]
              ) -> CandidateResult:
        """PATCH Multiple mode, the candidate's template and its zero-weight traffic (see the module)."""
        name = f"{app.name}--{suffix}"
        patch = traffic_patch(candidate_traffic(current.name or "", name), MULTIPLE).as_dict()
        patch["properties"]["template"] = {"revisionSuffix": suffix, "containers": containers}
        try:
            self._client.container_apps.begin_update(self._group, app.name or "", ContainerApp(patch), polling=False,
                                                     retry_on_methods=SAFE_TO_REPEAT)
        except HttpResponseError as error:
            code = error.error.code if error.error else ""
            if code in QUOTA_CODES:
                return CandidateResult(fallback=f"Container Apps refused a second revision for quota ({code}): "
                                                f"{error.error.message if error.error else ''}")
            raise
        return CandidateResult(revision=name)

    def promote(self, app_name: str, revision: str) -> str | None:
        """All traffic on `revision` (one PATCH, waited for), then every other revision deactivated; returns the
        revision that served before (None when the traffic had moved already: a repeated promote)."""
        revisions = self.revisions(app_name)
        if not any(r.name == revision and r.properties and r.properties.active for r in revisions):
            raise LookupError(f"revision {revision} of {app_name!r} is not active: it cannot take the traffic")
        before = [r.name for r in serving(revisions) if r.name != revision]
        if before:
            poller = self._client.container_apps.begin_update(self._group, app_name,
                                                              traffic_patch(promoted_traffic(revision)),
                                                              retry_on_methods=SAFE_TO_REPEAT)
            poller.result(timeout=TRAFFIC_UPDATE_TIMEOUT_S)
        for other in revisions:
            if other.name != revision and other.properties and other.properties.active:
                self.deactivate(app_name, other.name or "")
        return before[0] if before else None

    def discard(self, app: ContainerApp, revision: str) -> None:
        """Drop the candidate's traffic entry (weights untouched) and deactivate it."""
        kept = without(app, revision)
        if kept is not None:
            poller = self._client.container_apps.begin_update(self._group, app.name or "", traffic_patch(kept),
                                                              retry_on_methods=SAFE_TO_REPEAT)
            poller.result(timeout=TRAFFIC_UPDATE_TIMEOUT_S)
        self.deactivate(app.name or "", revision)

    def deactivate(self, app_name: str, revision: str) -> None:
        """Stop a revision (a missing one is already gone)."""
        try:
            self._client.container_apps_revisions.deactivate_revision(self._group, app_name, revision,
                                                                      retry_on_methods=SAFE_TO_REPEAT)
        except ResourceNotFoundError:
            return

