"""Targets: where the activities do their I/O (the local embedded default; Azure plugs in beside it)."""

from service_settings import ServiceSettings
from targets.protocol import Target


def get_target(name: str, settings: ServiceSettings) -> Target:
    """Return the target named in the orchestration input."""
    if name == "local":
        from targets.local import local_target

        return local_target(settings)
    raise ValueError(f"unknown target {name!r}; supported targets: 'local'")
