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

Retries are azure-core's ARM pipeline (408/429/5xx honouring Retry-After, and connection errors). By default it does
not repeat a PATCH or POST whose connection broke; these two are safe to repeat (the same merge patch changes nothing
the second time; a second restart of a starting revision only restarts it again), so they allow it.
"""

from collections.abc import Callable
from functools import lru_cache

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.appcontainers import ContainerAppsAPIClient
from azure.mgmt.appcontainers.models import ContainerApp

from payloads.steps import ProvisionOutputs, ReadinessResult, RestartResult
from service_settings import FUNCTION_APP_ROOT, ServiceSettings
from share_layout.manifest import digest, manifest_of_directory
from targets.azure.clients import container_apps_client, required
from targets.azure.readiness import (
    endpoint_verdict,
    failure,
    has_failed,
    missing_revision,
    replica_detail,
    revision_verdict,
)
from targets.azure.revision_plan import (
    endpoint_of,
    free_suffix,
    is_of_stem,
    serving_containers,
    serving_inputs,
    suffix_stem,
)

SAFE_TO_REPEAT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "POST")
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
        patch = ContainerApp({"properties": {"template": {"revisionSuffix": suffix, "containers": containers}}})
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
