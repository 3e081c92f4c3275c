"""PUT and PATCH of a container app: the body checked, merged (PATCH is JSON Merge Patch), and a revision made.

Any change to properties.template makes a new revision `<app>--<revisionSuffix>` (a random 7-letter suffix when none
is given); a change elsewhere (configuration, secrets) makes none and restarts nothing. A template change that keeps
the suffix of an existing revision is refused at once with the message Azure reports for it (Azure reports it when
the operation fails). Single revision mode: the new revision deactivates the others. Multiple mode: the others stay
active (each runs), and ingress.traffic decides which take requests (traffic.py); it may name the revision the same
write creates. Switching to Single keeps only the revision with the most traffic active.
Secrets must carry their values on every write that sends them (GET never returns values, so a GET→PUT round trip
that does not re-supply them is refused, as in Azure).
"""

import json
import random
import re
import string
from typing import Any

from targets.local.ports import free_port
from tests.simulators.container_apps import traffic
from tests.simulators.container_apps.container_process import ContainerSpecError, container_of, environment
from tests.simulators.container_apps.replies import ArmError
from tests.simulators.container_apps.resources import AppRecord, Operation, RevisionRecord
from tests.simulators.container_apps.schema import writable_app

REVISION_SUFFIX = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$")
MAX_REVISION_NAME = 54


def json_body(body: bytes) -> Any:
    """The request's JSON; 400 InvalidRequestContent when it is not JSON."""
    try:
        return json.loads(body or b"null")
    except ValueError as error:
        raise ArmError(400, "InvalidRequestContent", f"The request content is not valid JSON: {error}") from error


def request_document(body: bytes) -> dict[str, Any]:
    """The request's ContainerApp JSON, read-only properties dropped; 400 for bad JSON or an undeclared property."""
    return app_document(json_body(body))


def app_document(document: Any) -> dict[str, Any]:
    """A ContainerApp JSON document, read-only properties dropped; 400 for an undeclared property."""
    kept, unknown = writable_app(document)
    if unknown:
        raise ArmError(400, "InvalidRequestContent",
                       f"The request content has properties api-version 2026-07-01 does not define: {unknown}")
    return kept


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: objects merge, null deletes, anything else (arrays too) replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def check(document: dict[str, Any]) -> None:
    """400 for what the simulated service does not accept (or does not simulate)."""
    properties = document.get("properties") or {}
    configuration = properties.get("configuration") or {}
    if not document.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    if not (properties.get("environmentId") or properties.get("managedEnvironmentId")):
        raise ArmError(400, "InvalidRequestContent", "properties.environmentId is required")
    if str(configuration.get("activeRevisionsMode") or "Single").lower() not in ("single", "multiple"):
        raise ArmError(400, "InvalidRequestContent", "activeRevisionsMode must be Single or Multiple")
    if not (configuration.get("ingress") or {}).get("targetPort"):
        raise ArmError(400, "NotSimulated", "the simulated app needs ingress with a targetPort (its endpoint)")
    secrets = configuration.get("secrets") or []
    if missing := [secret.get("name") for secret in secrets if not secret.get("value")]:
        raise ArmError(400, "ContainerAppSecretInvalid",
                       f"Secret(s) {missing} have no value: values must be sent with every write of the secrets "
                       "(Key Vault references are not simulated)")
    template = properties.get("template") or {}
    if template.get("initContainers"):
        raise ArmError(400, "NotSimulated", "init containers are not simulated")
    try:
        environment(container_of(template), {secret["name"]: "" for secret in secrets}, {})
    except ContainerSpecError as error:
        raise ArmError(400, "InvalidParameterValueInContainerTemplate", str(error)) from error


def _canonical(template: dict[str, Any]) -> str:
    return json.dumps(template, sort_keys=True)


def _new_revision_name(app: AppRecord, template: dict[str, Any]) -> str:
    suffix = template.get("revisionSuffix") or "".join(random.choices(string.ascii_lowercase, k=7))
    name = f"{app.name}--{suffix}"
    if not REVISION_SUFFIX.match(suffix) or len(name) > MAX_REVISION_NAME:
        raise ArmError(400, "ContainerAppInvalidRevisionSuffix",
                       f"Invalid Container App revision name '{name}'. A revision name must consist of lower case "
                       "alphanumeric characters or '-', start with a letter, end with an alphanumeric character, "
                       f"cannot have '--' and be at most {MAX_REVISION_NAME} characters long.")
    if name in app.revisions:
        raise ArmError(400, "ContainerAppInvalidRevisionSuffix",
                       "The following field(s) are either invalid or missing. Field 'template.revisionsuffix' is "
                       f"invalid with details: 'Invalid value: \"{suffix}\": revision with suffix already exists'.")
    return name


def apply(app: AppRecord, document: dict[str, Any], created: bool, min_seconds: float) -> Operation:
    """Store the new document; a new revision when the template changed (or the app is new); the operation."""
    check(document)
    template = dict((document.get("properties") or {}).get("template") or {})
    changed = created or _canonical(template) != _canonical(app.template)
    name = _new_revision_name(app, template) if changed else None
    if name is None and document == app.document and app.operation and app.operation.status == "InProgress":
        return app.operation  # a repeated write (a retry after a lost reply) joins the operation it repeats
    configuration = (document.get("properties") or {}).get("configuration") or {}
    traffic.check_traffic(configuration, {*app.revisions, *([name] if name else [])}, name or app.latest_revision)
    multiple = traffic.is_multiple(configuration)
    was_multiple, serving = traffic.is_multiple(app.configuration), app.weights()
    app.document = document
    if name is None:
        if was_multiple and not multiple:
            keep = max(serving.items(), key=lambda item: item[1], default=(app.latest_revision, 0))[0]
            for revision in app.revisions.values():
                if revision.name != keep:
                    deactivate(revision)
        return app.start_operation(None, min_seconds)
    if not multiple:
        for revision in app.revisions.values():
            deactivate(revision)
    app.revisions[name] = RevisionRecord(name, template, free_port(), free_port())
    app.latest_revision = name
    return app.start_operation(name, min_seconds)


def revisions_after(app: AppRecord, document: dict[str, Any]) -> int:
    """How many revisions would run after writing `document` (Multiple mode keeps the active ones running)."""
    properties = document.get("properties") or {}
    if not traffic.is_multiple(properties.get("configuration") or {}):
        return 1
    new = _canonical(dict(properties.get("template") or {})) != _canonical(app.template)
    return max(len(app.running()) + int(new), 1)


def deactivate(revision: RevisionRecord) -> None:
    """The revision stops (its process is stopped by the runtime) and takes no traffic."""
    if revision.active:
        revision.active, revision.running_state, revision.health_state = False, "Stopped", "None"
        revision.replica = None
