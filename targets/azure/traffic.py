"""The container app's traffic: which revisions serve, the PATCH bodies that move traffic, where a revision answers.

Blue-green needs activeRevisionsMode Multiple: revisions stay active side by side and ingress.traffic names each with
a weight and an optional label. Traffic is app-scope: changing it (or the mode) starts no revision. PATCH is a JSON
Merge Patch in which arrays are replaced, so every traffic body is the whole list.
"""

from typing import Any

from azure.mgmt.appcontainers.models import ContainerApp, Revision

from targets.azure.revision_plan import endpoint_of

MULTIPLE = "Multiple"
SINGLE = "Single"
CURRENT_LABEL = "current"
CANDIDATE_LABEL = "candidate"
ALL = 100


def is_multiple(app: ContainerApp) -> bool:
    """Whether the app runs in Multiple revision mode."""
    configuration = app.properties.configuration if app.properties else None
    mode = getattr(configuration, "active_revisions_mode", None) or SINGLE
    return str(getattr(mode, "value", mode)).lower() == MULTIPLE.lower()


def serving(revisions: list[Revision]) -> list[Revision]:
    """The active revisions with a share of the traffic, the largest share first."""
    found = [revision for revision in revisions
             if revision.properties and revision.properties.active and (revision.properties.traffic_weight or 0) > 0]
    return sorted(found, key=lambda revision: -(revision.properties.traffic_weight or 0) if revision.properties else 0)


def traffic_patch(traffic: list[dict[str, Any]], mode: str | None = None) -> ContainerApp:
    """An app-scope PATCH of ingress.traffic (and the revision mode)."""
    configuration: dict[str, Any] = {"ingress": {"traffic": traffic}}
    if mode:
        configuration["activeRevisionsMode"] = mode
    return ContainerApp({"properties": {"configuration": configuration}})


def candidate_traffic(current: str, candidate: str) -> list[dict[str, Any]]:
    """All traffic on `current` (label current); `candidate` listed with none, under label candidate."""
    return [{"revisionName": current, "weight": ALL, "label": CURRENT_LABEL},
            {"revisionName": candidate, "weight": 0, "label": CANDIDATE_LABEL}]


def promoted_traffic(revision: str) -> list[dict[str, Any]]:
    """All traffic on `revision`, labelled current; nothing else listed (the candidate label is gone)."""
    return [{"revisionName": revision, "weight": ALL, "label": CURRENT_LABEL}]


def without(app: ContainerApp, revision: str) -> list[dict[str, Any]] | None:
    """The app's traffic without `revision`'s entry; None when it has none (nothing to change)."""
    configuration = app.properties.configuration if app.properties else None
    entries = [entry.as_dict() for entry in (configuration.ingress.traffic or [])] if (
        configuration and configuration.ingress) else []
    kept = [entry for entry in entries if entry.get("revisionName") != revision]
    return kept if len(kept) != len(entries) else None


def label_url(app_fqdn: str, app_name: str, label: str) -> str:
    """`https://<app>---<label>.<environment domain>` from the app's FQDN `<app>.<environment domain>`."""
    host = app_fqdn.split("://", 1)[-1]
    domain = host.split(".", 1)[1] if "." in host else host
    return f"https://{app_name}---{label}.{domain}"


def revision_url(revision: Revision, app_fqdn: str, app_name: str, label: str) -> str:
    """Where `revision` answers by itself: its revision-specific FQDN, else its label's URL."""
    fqdn = revision.properties.fqdn if revision.properties else None
    return endpoint_of(fqdn) if fqdn else label_url(app_fqdn, app_name, label)
