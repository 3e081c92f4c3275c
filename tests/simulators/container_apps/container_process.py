"""A revision's container as a local process: the container spec translated, as the image would run it.

The simulated image is this machine's Python with the inference server's dependencies: its command must be a shell
script of `cd <dir>` steps ending in `[exec] python[3] -m <module>` (what inference.parameters.json runs), run as
`sys.executable -m <module>`. Azure Files volumes are the Files simulator's backing directories: a path under a mount
path, in the working directory or in an environment value, becomes the same path under the backing directory.
secretRef values resolve from the app's secrets; PORT is the app's loopback port (the simulated ingress), HOST the
loopback address, and CONTAINER_APP_NAME / CONTAINER_APP_REVISION / CONTAINER_APP_REPLICA_NAME are set as Container
Apps sets them. Of this process's own environment only what a Python needs is inherited, no Azure credentials.
"""

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "HF_HOME", "OMP_NUM_THREADS", "TORCH_THREADS")
SHELLS = ("/bin/bash", "/bin/sh", "bash", "sh")
PYTHON_MODULE = re.compile(r"^(exec\s+)?python3?\s+-m\s+(?P<module>[\w.]+)$")


class ContainerSpecError(ValueError):
    """The container cannot start (what the revision's provisioningError says)."""


class WorkingDirectoryMissing(ContainerSpecError):
    """The command's working directory is not on the mounted share (yet): the container's command fails at once."""


@dataclass(frozen=True)
class LaunchSpec:
    """How to start one replica's container."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]


def container_of(template: dict[str, Any]) -> dict[str, Any]:
    """The template's one container."""
    containers = template.get("containers") or []
    if len(containers) != 1:
        raise ContainerSpecError("the simulated app runs exactly one container")
    return dict(containers[0])


def mounts(container: dict[str, Any], template: dict[str, Any], storages: dict[str, Path]) -> dict[str, Path]:
    """{mount path: backing directory} of the container's Azure Files volume mounts."""
    volumes = {volume["name"]: volume for volume in template.get("volumes") or []}
    found: dict[str, Path] = {}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("volumeName", ""))
        if volume is None or volume.get("storageType") != "AzureFile" or volume.get("storageName") not in storages:
            raise ContainerSpecError(f"volume {mount.get('volumeName')!r} is not an Azure Files volume of a storage "
                                     f"the environment has ({', '.join(sorted(storages))})")
        found[mount["mountPath"].rstrip("/")] = storages[volume["storageName"]] / mount.get("subPath", "")
    return found


def translated(path: str, mounted: dict[str, Path]) -> str:
    """A container path under a mount, as the backing path; any other value unchanged."""
    for mount_path, backing in mounted.items():
        if path == mount_path or path.startswith(f"{mount_path}/"):
            return str(backing / PurePosixPath(path).relative_to(mount_path))
    return path


def command_steps(container: dict[str, Any]) -> tuple[str, str]:
    """(working directory, module) from a `cd <dir> && exec python -m <module>` shell command."""
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    if len(argv) != 3 or argv[0] not in SHELLS or argv[1] != "-c":
        raise ContainerSpecError(f"the simulated image runs `/bin/bash -c <script>` only, not {argv}")
    directory, module = "/", None
    for step in (part.strip() for part in re.split(r"&&|;", argv[2]) if part.strip()):
        words = shlex.split(step)
        if words[0] == "cd" and len(words) == 2 and module is None:
            directory = str(PurePosixPath(directory) / words[1])
        elif (match := PYTHON_MODULE.match(step)) and module is None:
            module = match["module"]
        else:
            raise ContainerSpecError(f"the simulated image cannot run {step!r}: only `cd <dir>` then `python -m`")
    if module is None:
        raise ContainerSpecError(f"the command {argv[2]!r} starts no `python -m <module>`")
    return directory, module


def environment(container: dict[str, Any], secrets: dict[str, str], mounted: dict[str, Path]) -> dict[str, str]:
    """The container's env: values translated, secretRefs resolved."""
    env: dict[str, str] = {}
    for variable in container.get("env") or []:
        if "secretRef" in variable:
            if variable["secretRef"] not in secrets:
                raise ContainerSpecError(f"env {variable['name']} refers to a missing secret {variable['secretRef']}")
            env[variable["name"]] = secrets[variable["secretRef"]]
        else:
            env[variable["name"]] = translated(str(variable.get("value", "")), mounted)
    return env


def launch_spec(app: str, revision: str, replica: str, template: dict[str, Any], secrets: dict[str, str],
                storages: dict[str, Path], port: int, inherited: dict[str, str]) -> LaunchSpec:
    """The command, working directory and environment of one replica of `revision`."""
    container = container_of(template)
    mounted = mounts(container, template, storages)
    directory, module = command_steps(container)
    cwd = Path(translated(directory, mounted))
    if not cwd.is_dir():
        raise WorkingDirectoryMissing(f"the working directory {directory} does not exist (not under a mounted share?)")
    env = {name: inherited[name] for name in INHERITED_ENV if name in inherited}
    env.update(environment(container, secrets, mounted))
    env.update(PORT=str(port), HOST="127.0.0.1", PYTHONUNBUFFERED="1", CONTAINER_APP_NAME=app,
               CONTAINER_APP_REVISION=revision, CONTAINER_APP_REPLICA_NAME=replica)
    return LaunchSpec(argv=[sys.executable, "-m", module], cwd=cwd, env=env)
