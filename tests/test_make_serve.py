"""`make serve`: the local host always runs with a function key, the user's or one it prints."""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from devtools.child_process import child_env, wait_until_answers
from devtools.devhost.process import reports_running
from service_settings import FUNCTION_APP_ROOT
from targets.local.ports import free_port

pytestmark = pytest.mark.slow

KEY_LINE = "function key for this host (header x-functions-key, or ?code=): "


@contextmanager
def _serve(tmp_path: Path, env: dict[str, str], drop: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """Run `make -s serve` on a free port; yield its base URL and what it printed first."""
    port = free_port()
    log = tmp_path / "serve.log"
    command = ["make", "-s", "serve", f"PORT={port}", f"STATE_DIR={tmp_path / 'state'}"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=FUNCTION_APP_ROOT, env=child_env(env, drop), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base_url}/admin/host/status", process, log, timeout=120, accept=reports_running)
        yield base_url, log.read_text()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _status_code(base_url: str, key: str | None) -> int:
    headers = {"x-functions-key": key} if key else {}
    return httpx.get(f"{base_url}/api/status/no-such-instance", headers=headers, timeout=30).status_code


def test_without_function_key_a_new_key_is_printed_and_required(tmp_path: Path) -> None:
    with _serve(tmp_path, {}, drop=("FUNCTION_KEY", "DEVHOST_FUNCTION_KEY")) as (base_url, printed):
        assert KEY_LINE in printed
        key = printed.split(KEY_LINE, 1)[1].split()[0]
        assert len(key) >= 24
        assert _status_code(base_url, None) == 401
        assert _status_code(base_url, key) == 404  # past the key check: the instance is unknown


def test_function_key_from_the_environment_is_used_and_not_printed(tmp_path: Path) -> None:
    key = f"user-chosen-{time.monotonic_ns()}"
    with _serve(tmp_path, {"FUNCTION_KEY": key}) as (base_url, printed):
        assert key not in printed and KEY_LINE not in printed
        assert _status_code(base_url, "wrong") == 401
        assert _status_code(base_url, key) == 404
