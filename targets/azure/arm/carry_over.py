"""What a re-provision keeps from the existing container app, so that provisioning again never undoes a deploy.

Deploys own what the app serves: they PATCH the server container's MODEL_PATH and ADAPTER_PATH (whatever
targets/azure/revision_plan.py writes), its image, and a deterministic `revisionSuffix`. When the app exists, the
start activity reads it and passes back, as template parameters:

* `servingEnv`: the server's variables the template does not set itself (its `serverEnv` names), as the app has
  them and in its order; the template renders them after its own, where a deploy leaves them. So the paths a
  request or the parameter file name (base_model_path, adapter_path) only apply to a new app: deploy to change them.
* `containerImage`: the app's image, unless the request named one (that is a new revision, as asked).
* `revisionSuffix`: the app's, when the revision would otherwise be the same. The app's
  `finetune-deploy-revision-inputs` tag is the fingerprint of what its revision was rendered from (the template and
  every parameter but the ones above); when this deployment's fingerprint is the same, the image is the app's and its
  variables are the template's own followed by the carried ones, the PUT's revision template is the app's and
  Container Apps starts no revision. Otherwise the suffix is empty: something in the revision changes (the request's
  image or GPU profile, max replicas, another template), Container Apps names the new revision (keeping a suffix
  with a changed template would be refused: "revision with suffix already exists").
"""

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from service_settings import ServiceSettings
from targets.azure.arm.template import template
from targets.azure.clients import arm_container_apps_client, arm_endpoint

SERVING_ENV = "servingEnv"
REVISION_SUFFIX = "revisionSuffix"
REVISION_INPUTS = "revisionInputs"
IMAGE = "containerImage"
FROM_THE_APP = frozenset({SERVING_ENV, REVISION_SUFFIX, REVISION_INPUTS})
"""Parameters only the start activity sets (a request, a setting or the parameter file never does)."""
OUTSIDE_FINGERPRINT = FROM_THE_APP | {IMAGE, "baseModelPath", "adapterPath"}
"""What the fingerprint leaves out: what a re-provision carries over (the paths reach the app as servingEnv)."""
REVISION_TAG = "finetune-deploy-revision-inputs"
FINGERPRINT_CHARS = 16
ENV_KEYS = ("name", "value", "secretRef")


def template_env_names() -> tuple[str, ...]:
    """The server variables the template sets itself (its serverEnv), in the template's order."""
    return tuple(str(entry["name"]) for entry in template()["variables"]["serverEnv"])


def revision_inputs(parameters: Mapping[str, Any]) -> str:
    """The fingerprint of what the app's revision is rendered from (see the module); equal inputs, equal value."""
    kept = {name: value for name, value in parameters.items() if name not in OUTSIDE_FINGERPRINT}
    text = json.dumps([template(), kept], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_CHARS]


def existing_app(settings: ServiceSettings, subscription: str, group: str, app_name: str) -> dict[str, Any] | None:
    """The container app as a GET returns it (REST names), or None when it does not exist yet."""
    client = arm_container_apps_client(subscription, *arm_endpoint(settings))
    try:
        return dict(client.container_apps.get(group, app_name).as_dict())
    except ResourceNotFoundError:
        return None


def _renders_as_is(env: list[dict[str, Any]]) -> bool:
    """Whether the app's variables are the template's own, in its order, followed by at least one carried one."""
    owned = template_env_names()
    names = [entry.get("name") for entry in env]
    return names[:len(owned)] == list(owned) and len(names) > len(owned) and not set(names[len(owned):]) & set(owned)


def carried_parameters(app: Mapping[str, Any] | None, parameters: Mapping[str, Any],
                       requested: Collection[str]) -> dict[str, Any]:
    """The parameters to add to (or replace in) `parameters` for the app as it is (None: a new app)."""
    inputs = revision_inputs(parameters)
    carried: dict[str, Any] = {REVISION_INPUTS: inputs}
    revision = ((app or {}).get("properties") or {}).get("template") or {}
    containers = revision.get("containers") or []
    if app is None or not containers:
        return carried
    server = containers[0]
    env = [dict(entry) for entry in server.get("env") or []]
    owned = set(template_env_names())
    served = [{key: entry[key] for key in ENV_KEYS if key in entry} for entry in env if entry.get("name") not in owned]
    if served:
        carried[SERVING_ENV] = served
    if IMAGE not in requested and server.get("image"):
        carried[IMAGE] = server["image"]
    same = ((app.get("tags") or {}).get(REVISION_TAG) == inputs and _renders_as_is(env)
            and carried.get(IMAGE, parameters.get(IMAGE)) == server.get("image"))
    if same and revision.get(REVISION_SUFFIX):
        carried[REVISION_SUFFIX] = revision[REVISION_SUFFIX]
    return carried
