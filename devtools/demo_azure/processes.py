"""The demo's child processes (the host, the simulated apps' servers), to show that none outlives it."""

from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Child:
    """A process this one started, directly or not."""

    pid: int
    command: str


def children() -> list[Child]:
    """Every live descendant of this process, named by its `python -m` module or executable."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            argv = process.cmdline()
        except psutil.Error:  # exited meanwhile
            continue
        module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else (argv[0] if argv else "?")
        found.append(Child(process.pid, module))
    return found


def still_running(seen: list[Child]) -> list[Child]:
    """Those of `seen` alive now (a zombie not yet reaped counts as gone)."""
    alive = []
    for child in seen:
        try:
            if psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
        except psutil.NoSuchProcess:
            continue
    return alive
