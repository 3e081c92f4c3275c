"""Finding, signalling and stopping local app supervisors (at most one per app: see supervisor.py)."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from service_settings import FUNCTION_APP_ROOT
from targets.local.app_files import AppFiles

SUPERVISOR_MODULE = "targets.local.supervisor"


def _supervised_dir(pid: int) -> Path | None:
    """The app directory a live supervisor process runs, read from its command line; None for other processes."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if SUPERVISOR_MODULE not in argv:
        return None
    position = argv.index(SUPERVISOR_MODULE) + 1
    return Path(argv[position]).resolve() if position < len(argv) else None


def supervisors_under(apps_dir: Path) -> Iterator[tuple[int, Path]]:
    """Every live supervisor (pid, app directory) of an app under `apps_dir`, pid file or not."""
    root = apps_dir.resolve()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (app_dir := _supervised_dir(int(entry.name))) and app_dir.parent == root:
            yield int(entry.name), app_dir


def supervisor_pid(files: AppFiles) -> int | None:
    """The live supervisor's pid, or None (a stale pid file, or a pid reused by another process, does not count)."""
    try:
        pid = int(files.pid_path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _supervised_dir(pid) == files.dir.resolve() else None


def launch_supervisor(files: AppFiles, timeout: float = 10.0) -> int:
    """Start a detached supervisor (it exits at once if another holds the app's lock); the live one's pid."""
    env = {**os.environ, "PYTHONPATH": str(FUNCTION_APP_ROOT)}
    subprocess.run(
        [sys.executable, "-m", SUPERVISOR_MODULE, str(files.dir), "--detach"],
        cwd=FUNCTION_APP_ROOT, env=env, check=True, timeout=timeout,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (pid := supervisor_pid(files)) is not None:
            return pid
        time.sleep(0.05)
    raise RuntimeError(f"the local app supervisor did not start; see {files.logs_dir / 'supervisor.log'}")


def signal_or_launch(files: AppFiles) -> None:
    """Make sure the app has its supervisor, then have it read app.json (it switches only if the revision changed)."""
    pid = supervisor_pid(files) or launch_supervisor(files)
    os.kill(pid, signal.SIGHUP)


def _stop(pid: int, timeout: float) -> None:
    """SIGTERM a supervisor (it stops its server first); SIGKILL its process group after `timeout`."""
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists() and _supervised_dir(pid) is not None:
            time.sleep(0.1)
        if _supervised_dir(pid) is not None:
            os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_app(app_dir: Path, timeout: float = 20.0) -> bool:
    """Stop every supervisor of one app and its server; True when one was running."""
    found = [pid for pid, supervised in supervisors_under(app_dir.parent) if supervised == app_dir.resolve()]
    for pid in found:
        _stop(pid, timeout)
    AppFiles(app_dir).pid_path.unlink(missing_ok=True)
    return bool(found)


def stop_all(apps_dir: Path) -> list[str]:
    """Stop every supervisor of every app under `apps_dir`; the names of the apps that were running."""
    if not apps_dir.is_dir():
        return []
    names = sorted({app_dir.name for _, app_dir in supervisors_under(apps_dir)})
    return [name for name in names if stop_app(apps_dir / name)]
