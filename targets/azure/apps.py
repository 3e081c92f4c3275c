"""The Azure target's app host: the inference container app's revisions, through azure-mgmt-appcontainers.

restart GETs the app, then either restarts its latest revision (nothing the revision serves changed: same base model,
adapter version, image and code) or PATCHes the template, the full containers array with MODEL_PATH/ADAPTER_PATH
(and the image) set plus a deterministic revisionSuffix, so Container Apps rolls out `<app>--<suffix>` (see
revision_plan). Only the template is sent: a PATCH is a JSON Merge Patch, so the secrets (whose values a GET never
returns) stay as they are. The PATCH's long-running operation is not waited for: Container Apps ends it only once the
new revision is provisioned, minutes for a GPU model load, longer than an activity should block; probe, called by the
deploy's monitor loop, watches the revision instead.

Requests: a new revision costs GET app, GET revisions, PATCH; a restart costs GET app, POST restart. A probe costs
GET app, GET revision (plus GET replicas once it failed), then GET <endpoint>/ready.

Zero-downtime deploys: swap_adapter swaps the adapter in the serving revision through the server's admin route
(swap.py); start_candidate / probe_candidate / promote / discard_candidate run a blue-green candidate revision
beside the serving one (blue_green.py, traffic.py). A restart of an app that blue-green left in Multiple revision
mode switches it back to Single in the same PATCH (traffic to the latest revision), so the new revision takes all
traffic and the old one stops, as the seed's restart does.

Retries are azure-core's ARM pipeline (408/429/5xx honouring Retry-After, and connection errors). By default it does
not repeat a PATCH or POST whose connection broke; these two are safe to repeat (the same merge patch changes nothing
the second time; a second restart of a starting revision only restarts it again), so they allow it.
"""

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.appcontainers import ContainerAppsAPIClient
from azure.mgmt.appcontainers.models import ContainerApp

from payloads.redeploy import CandidateResult, PromoteResult, SmokeGate, SwapResult
from payloads.steps import ProvisionOutputs, ReadinessResult, RestartResult
from service_settings import FUNCTION_APP_ROOT, ServiceSettings
from share_layout.manifest import digest, manifest_of_directory
from targets.azure.arm.template import ADMIN_KEY_SECRET, API_KEY_SECRET
from targets.azure.blue_green import BlueGreen
from targets.azure.clients import container_apps_client, required
from targets.azure.readiness import (
    SERVING,
    endpoint_verdict,
    failure,
    has_failed,
    missing_revision,
    named,
    progress,
    replica_detail,
    revision_verdict,
)
from targets.azure.revision_plan import (
    endpoint_of,
    free_suffix,
    is_of_stem,
    serving_containers,
    serving_inputs,
    share_mount_path,
    suffix_stem,
)
from targets.azure.swap import SwapTarget, swap_in_place
from targets.azure.traffic import (
    ALL,
    CANDIDATE_LABEL,
    CURRENT_LABEL,
    SINGLE,
    is_multiple,
    label_url,
    revision_url,
)

SAFE_TO_REPEAT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "POST")
READ_METHODS = ("GET", "HEAD", "POST")
"""listSecrets is a POST that changes nothing: a broken connection may repeat it."""
SERVER_CODE = FUNCTION_APP_ROOT / "inference_container"


@lru_cache(maxsize=1)
def packaged_code_hash() -> str:
    """The hash of the server code this function app deploys (sync_share's code_hash of what it puts on the share)."""
    return digest(manifest_of_directory(SERVER_CODE))


class AzureApps:
    """Restarts and probes container apps of one resource group."""

    def __init__(self, client: ContainerAppsAPIClient, resource_group: str, image: str | None = None,
                 code_hash: Callable[[], str] = packaged_code_hash) -> None:
        self._client = client
        self._group = resource_group
        self._image = image
        self._code_hash = code_hash
        self._blue_green = BlueGreen(client, resource_group)

    def is_provisioned(self, app_name: str) -> bool:
        """Whether the container app exists."""
        try:
            self._client.container_apps.get(self._group, app_name)
        except ResourceNotFoundError:
            return False
        return True

    def create_app(self, app_name: str, port: int | None) -> ProvisionOutputs:
        """Not here: provisioning on Azure is the ARM deployment of infra/provision/inference.json."""
        raise NotImplementedError(
            f"cannot create {app_name!r} this way: on the Azure target, provisioning is the ARM deployment of "
            "infra/provision/inference.json (the next part of the Azure target); deploy that template, or use the "
            "local target"
        )

    def restart(self, app_name: str, base_model: str, version: str) -> RestartResult:
        """Roll out a revision serving `base_model` with adapter `version`, or restart it when it already does."""
        app = self._app(app_name)
        if app.properties is None or app.properties.template is None:
            raise ValueError(f"container app {app_name!r} has no template: provision it again")
        template = app.properties.template.as_dict()
        inputs = serving_inputs(template, base_model, version, self._image, self._code_hash())
        stem, endpoint = suffix_stem(app_name, version, inputs), self._endpoint(app)
        current, latest = template.get("revisionSuffix"), app.properties.latest_revision_name
        if is_of_stem(current, stem) and latest == f"{app_name}--{current}":
            revisions = self._client.container_apps_revisions
            revisions.restart_revision(self._group, app_name, latest, retry_on_methods=SAFE_TO_REPEAT)
            return RestartResult(revision=latest, endpoint=endpoint)
        listed = self._client.container_apps_revisions.list_revisions(self._group, app_name)
        suffix = free_suffix(app_name, stem, {revision.name for revision in listed if revision.name})
        containers = serving_containers(template, inputs)
        properties: dict[str, Any] = {"template": {"revisionSuffix": suffix, "containers": containers}}
        if is_multiple(app):  # back to Single: the new revision takes all traffic, the others stop
            properties["configuration"] = {"activeRevisionsMode": SINGLE,
                                           "ingress": {"traffic": [{"latestRevision": True, "weight": ALL}]}}
        patch = ContainerApp({"properties": properties})
        self._client.container_apps.begin_update(self._group, app_name, patch, polling=False,
                                                 retry_on_methods=SAFE_TO_REPEAT)
        return RestartResult(revision=f"{app_name}--{suffix}", endpoint=endpoint)

    def probe(self, app_name: str, revision: str) -> ReadinessResult:
        """Ready when the revision is provisioned, running, healthy, the latest ready one, and answers /ready."""
        app = self._app(app_name)
        try:
            state = self._client.container_apps_revisions.get_revision(self._group, app_name, revision)
        except ResourceNotFoundError:
            return missing_revision(app, revision)
        verdict = revision_verdict(app, state)
        if verdict is None:
            return endpoint_verdict(self._endpoint(app), revision)
        if has_failed(state):
            replicas = self._client.container_apps_revision_replicas.list_replicas(self._group, app_name, revision)
            return failure(f"{verdict.detail}; {replica_detail(app_name, revision, replicas.value)}")
        return verdict

    def api_key(self, app_name: str) -> str | None:
        """The key the server checks on /v1 (the app's api-key secret), for the smoke gate; None without one."""
        return self._secret(app_name, API_KEY_SECRET)

    def swap_adapter(self, app_name: str, version: str, gate: SmokeGate | None) -> SwapResult:
        """Swap the serving revision's adapter through its admin route; `unsupported` when that cannot reach every
        replica (more than one runs) or the server has no admin key (see swap.py)."""
        app = self._app(app_name)
        current = self._blue_green.serving_revision(app_name, self._blue_green.revisions(app_name))
        name = current.name or ""
        replicas = self._client.container_apps_revision_replicas.list_replicas(self._group, app_name, name).value
        if len(replicas) > 1:
            return SwapResult(swapped=False, version=version, unsupported=True,
                              detail=f"revision {name} runs {len(replicas)} replicas and the admin route reaches one "
                                     "of them: a blue-green deploy changes them all")
        key = self._secret(app_name, ADMIN_KEY_SECRET)
        if key is None:
            return SwapResult(swapped=False, version=version, unsupported=True,
                              detail=f"container app {app_name!r} has no admin-key secret (provisioned before "
                                     "in-place swaps existed): provision it again to add one")
        template = self._template(app)
        mount = share_mount_path(template, (template.get("containers") or [{}])[0])
        url = revision_url(current, self._fqdn(app), app_name, CURRENT_LABEL)
        return swap_in_place(version, SwapTarget(name, url, mount, key), gate)

    def start_candidate(self, app_name: str, base_model: str, version: str) -> CandidateResult:
        """A candidate revision beside the serving one with no traffic (see blue_green.py), or why not."""
        app = self._app(app_name)
        template = self._template(app)
        inputs = serving_inputs(template, base_model, version, self._image, self._code_hash())
        stem = suffix_stem(app_name, version, inputs)
        revisions = self._blue_green.revisions(app_name)
        current = self._blue_green.serving_revision(app_name, revisions)
        for revision in revisions:  # a repeated start: the candidate of these inputs runs already
            suffix = (revision.name or "").split("--", 1)[-1]
            active = revision.properties is not None and revision.properties.active
            if active and revision.name != current.name and is_of_stem(suffix, stem):
                return CandidateResult(revision=revision.name, url=self._candidate_url(app, revision.name or ""))
        if reason := self._blue_green.no_room(app, current):
            return CandidateResult(fallback=reason)
        suffix = free_suffix(app_name, stem, {revision.name for revision in revisions if revision.name})
        started = self._blue_green.start(app, current, suffix, serving_containers(template, inputs))
        if started.revision is None:
            return started
        return CandidateResult(revision=started.revision, url=self._candidate_url(app, started.revision))

    def probe_candidate(self, app_name: str, revision: str) -> ReadinessResult:
        """Ready when the candidate is provisioned, running, healthy and answers /ready at its own URL."""
        app = self._app(app_name)
        try:
            state = self._client.container_apps_revisions.get_revision(self._group, app_name, revision)
        except ResourceNotFoundError:
            return missing_revision(app, revision)
        if state.properties is not None and state.properties.active is False:
            return failure(f"candidate revision {revision} was deactivated; deploy again")
        if has_failed(state):
            replicas = self._client.container_apps_revision_replicas.list_replicas(self._group, app_name, revision)
            detail = f"revision {revision} failed: {state.properties.provisioning_error if state.properties else ''}"
            return failure(f"{detail}; {replica_detail(app_name, revision, replicas.value)}")
        states = state.properties
        current = (states.provisioning_state, states.running_state, states.health_state) if states else None
        if current != SERVING:
            shown = ", ".join(named(value) for value in current) if current else "no state yet"
            return progress(f"candidate revision {revision} is starting ({shown})")
        return endpoint_verdict(revision_url(state, self._fqdn(app), app_name, CANDIDATE_LABEL), revision)

    def promote(self, app_name: str, revision: str) -> PromoteResult:
        """All traffic to the candidate in one update; the previous revision stops, draining (blue_green.py)."""
        app = self._app(app_name)
        previous = self._blue_green.promote(app_name, revision)
        return PromoteResult(revision=revision, endpoint=self._endpoint(app), previous_revision=previous)

    def discard_candidate(self, app_name: str, revision: str) -> None:
        """Stop the candidate; the serving revision and its traffic are untouched."""
        self._blue_green.discard(self._app(app_name), revision)

    def _candidate_url(self, app: ContainerApp, revision: str) -> str:
        try:
            state = self._client.container_apps_revisions.get_revision(self._group, app.name or "", revision)
        except ResourceNotFoundError:  # not listed yet: its label names it
            return label_url(self._fqdn(app), app.name or "", CANDIDATE_LABEL)
        return revision_url(state, self._fqdn(app), app.name or "", CANDIDATE_LABEL)

    def _secret(self, app_name: str, secret: str) -> str | None:
        collection = self._client.container_apps.list_secrets(self._group, app_name, retry_on_methods=READ_METHODS)
        return next((item.value for item in collection.value if item.name == secret and item.value), None)

    @staticmethod
    def _template(app: ContainerApp) -> dict[str, Any]:
        if app.properties is None or app.properties.template is None:
            raise ValueError(f"container app {app.name!r} has no template: provision it again")
        return dict(app.properties.template.as_dict())

    def _fqdn(self, app: ContainerApp) -> str:
        return self._endpoint(app).split("://", 1)[-1]

    def _app(self, app_name: str) -> ContainerApp:
        try:
            return self._client.container_apps.get(self._group, app_name)
        except ResourceNotFoundError as error:
            raise LookupError(f"container app {app_name!r} is not in resource group {self._group!r}: "
                              "provision it first (POST /api/provision)") from error

    @staticmethod
    def _endpoint(app: ContainerApp) -> str:
        configuration = app.properties.configuration if app.properties else None
        fqdn = configuration.ingress.fqdn if configuration and configuration.ingress else None
        if not fqdn:
            raise ValueError(f"container app {app.name!r} has no ingress FQDN: provision it again (ingress external)")
        return endpoint_of(fqdn)


def azure_apps(settings: ServiceSettings) -> AzureApps:
    """The container app host of the resource group in settings, through the one credential."""
    group = required(settings.azure_resource_group,
                     "no resource group: set AZURE_RESOURCE_GROUP to the container app's resource group "
                     "(provision's RESOURCE_GROUP_NAME output)")
    return AzureApps(container_apps_client(settings), group, settings.azure_inference_image)
