"""What a deploy asks of the container app's template, and the deterministic revision suffix that names it.

The app's inference container reads the base model and the adapter from the mounted share through MODEL_PATH and
ADAPTER_PATH, and runs the server code synced to the share. A deploy that changes either path, the image, or the code
(its hash) changes the template, so Container Apps rolls out a new revision `<app>--<suffix>`. The suffix is
`<version slug>-<8 hex of the inputs' hash>`: the same inputs give the same suffix, so a retried deploy recognises
the revision it already asked for and restarts it instead of making another. Revision names are unique for the app's
lifetime, so returning to inputs an older revision had (a rollback) takes the stem plus `-2`, `-3`, ...
Container Apps allows lower-case letters, digits and single hyphens in a suffix, starting with a letter and ending
with a letter or digit, and at most 54 characters in `<app>--<suffix>`.
"""

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from share_layout import paths

MAX_REVISION_NAME = 54
HASH_CHARS = 8
MAX_ROLLBACKS = 99
ROLLBACK_ROOM = len(f"-{MAX_ROLLBACKS}")
"""Characters kept free for a `-<n>` rollback counter."""


@dataclass(frozen=True)
class ServingInputs:
    """What the new revision serves: share paths in the container, the image and the code's hash."""

    model_path: str
    adapter_path: str
    image: str
    code_hash: str

    def fingerprint(self) -> str:
        """A short hash of the inputs: equal inputs, equal fingerprint."""
        payload = json.dumps([self.model_path, self.adapter_path, self.image, self.code_hash])
        return hashlib.sha256(payload.encode()).hexdigest()[:HASH_CHARS]


def share_mount_path(template: dict[str, Any], container: dict[str, Any]) -> str:
    """Where `container` mounts the template's Azure Files volume (the share); ValueError when it mounts none."""
    volumes = template.get("volumes") or []
    shares = {volume.get("name") for volume in volumes if volume.get("storageType") == "AzureFile"}
    for mount in container.get("volumeMounts") or []:
        if mount.get("volumeName") in shares:
            return str(mount["mountPath"]).rstrip("/")
    raise ValueError(f"container {container.get('name')!r} mounts no Azure Files share: the app was not provisioned "
                     "from infra/provision/inference.json; provision it again")


def serving_inputs(template: dict[str, Any], base_model: str, version: str, image: str | None, code_hash: str
                   ) -> ServingInputs:
    """The inputs of a revision serving `base_model` with adapter `version` (the first container is the server)."""
    container = (template.get("containers") or [{}])[0]
    mount = share_mount_path(template, container)
    return ServingInputs(
        model_path=str(PurePosixPath(mount) / base_model),
        adapter_path=str(PurePosixPath(mount) / paths.adapter_version_dir(version)),
        image=image or str(container.get("image", "")),
        code_hash=code_hash,
    )


def serving_containers(template: dict[str, Any], inputs: ServingInputs) -> list[dict[str, Any]]:
    """The template's full containers array with the server's image, MODEL_PATH and ADAPTER_PATH set (order kept)."""
    containers = [dict(container) for container in template.get("containers") or []]
    server = containers[0]
    wanted = {"MODEL_PATH": inputs.model_path, "ADAPTER_PATH": inputs.adapter_path}
    env = [dict(variable) for variable in server.get("env") or [] if variable.get("name") not in wanted]
    server["env"] = [*env, *({"name": name, "value": value} for name, value in wanted.items())]
    server["image"] = inputs.image
    return containers


def suffix_stem(app_name: str, version: str, inputs: ServingInputs) -> str:
    """`<version slug>-<fingerprint>`, short enough that `<app>--<stem>-<n>` fits Container Apps' limit."""
    slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", version.lower())).strip("-")
    if not slug[:1].isalpha():
        slug = f"v{slug}"
    room = MAX_REVISION_NAME - len(app_name) - len("--") - len("-") - HASH_CHARS - ROLLBACK_ROOM
    if room < 1:
        raise ValueError(f"app name {app_name!r} is too long for a revision suffix")
    return f"{slug[:room].rstrip('-')}-{inputs.fingerprint()}"


def is_of_stem(suffix: str | None, stem: str) -> bool:
    """Whether `suffix` names a revision of these inputs (the stem itself, or the stem with a rollback counter)."""
    if not suffix:
        return False
    return suffix == stem or (suffix.startswith(f"{stem}-") and suffix[len(stem) + 1:].isdigit())


def free_suffix(app_name: str, stem: str, revisions: Collection[str]) -> str:
    """The stem, or the stem with the first rollback counter no revision of the app has taken."""
    candidates = (stem if number == 1 else f"{stem}-{number}" for number in range(1, MAX_ROLLBACKS + 1))
    for candidate in candidates:
        if f"{app_name}--{candidate}" not in revisions:
            return candidate
    raise ValueError(f"every revision suffix of {stem!r} is taken on {app_name!r}")


def endpoint_of(fqdn: str) -> str:
    """The app's URL: https://<fqdn>; an fqdn that already carries a scheme (the simulated app's) as it is."""
    return fqdn.rstrip("/") if "://" in fqdn else f"https://{fqdn}"
