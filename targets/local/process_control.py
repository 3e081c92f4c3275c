"""Finding, signalling and stopping a local app's supervisor process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from service_settings import FUNCTION_APP_ROOT
from targets.local.app_files import AppFiles


def supervisor_pid(files: AppFiles) -> int | None:
    """The live supervisor's pid, or None (a stale pid file or a reused pid does not count)."""
    try:
        pid = int(files.pid_path.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid if b"targets.local.supervisor" in cmdline else None


def launch_supervisor(files: AppFiles, timeout: float = 10.0) -> int:
    """Start a detached supervisor for the app and wait until it has written its pid."""
    env = {**os.environ, "PYTHONPATH": str(FUNCTION_APP_ROOT)}
    subprocess.run(
        [sys.executable, "-m", "targets.local.supervisor", str(files.dir), "--detach"],
        cwd=FUNCTION_APP_ROOT, env=env, check=True, timeout=timeout,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (pid := supervisor_pid(files)) is not None:
            return pid
        time.sleep(0.05)
    raise RuntimeError(f"the local app supervisor did not start; see {files.logs_dir / 'supervisor.log'}")


def signal_or_launch(files: AppFiles) -> None:
    """Ask the running supervisor to switch revision, or start one that reads the new revision."""
    pid = supervisor_pid(files)
    if pid is None:
        launch_supervisor(files)
    else:
        os.kill(pid, signal.SIGHUP)


def stop_app(app_dir: Path, timeout: float = 20.0) -> bool:
    """Stop an app's supervisor and its server; True when one was running."""
    files = AppFiles(app_dir)
    pid = supervisor_pid(files)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and supervisor_pid(files) == pid:
        time.sleep(0.1)
    if supervisor_pid(files) == pid:
        os.killpg(pid, signal.SIGKILL)
        files.pid_path.unlink(missing_ok=True)
    return True


def stop_all(apps_dir: Path) -> list[str]:
    """Stop every local app under `apps_dir`; the names of those that were running."""
    if not apps_dir.is_dir():
        return []
    return [app_dir.name for app_dir in sorted(apps_dir.iterdir()) if app_dir.is_dir() and stop_app(app_dir)]
