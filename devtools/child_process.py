"""Server child processes for the developer tools and tests: start one, wait until it answers, stop it.

One implementation for the local Functions host, the inference server and the benchmark's baseline. A port
picked free can be taken by someone else before the child binds it, so a start that dies on
"address already in use" is retried on a new port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from service_settings import FUNCTION_APP_ROOT
from targets.local.ports import LOOPBACK, free_port

Command = tuple[list[str], dict[str, str]]
"""argv and the child's whole environment (see `child_env`)."""

ADDRESS_IN_USE = "address already in use"
PORT_ATTEMPTS = 3
STOP_GRACE_SECONDS = 20.0


class ServerStartError(RuntimeError):
    """The server exited, or did not answer as ready before its deadline; the message ends with its log."""


def child_env(extra: dict[str, str], drop: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment with unbuffered output, `extra` added and the `drop` variables removed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra}
    for name in drop:
        env.pop(name, None)
    return env


def log_tail(log_path: Path, lines: int = 40) -> str:
    """The last lines a child wrote (what start errors quote)."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def launch(argv: list[str], env: dict[str, str], log_path: Path, cwd: Path = FUNCTION_APP_ROOT
           ) -> subprocess.Popen[bytes]:
    """Start `argv` in its own process group, stdout and stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def answers_200(reply: httpx.Response) -> bool:
    """The default readiness test: the probe answered 200."""
    return reply.status_code == 200


def wait_until_answers(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float,
                       accept: Callable[[httpx.Response], bool] = answers_200) -> None:
    """Poll `url` until `accept` likes the answer; ServerStartError if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"exited with {process.returncode} before {url} answered:\n{log_tail(log_path)}")
        try:
            if accept(httpx.get(url, timeout=5.0)):
                return
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.1)
    raise ServerStartError(f"{url} did not answer as ready within {timeout:.0f} s:\n{log_tail(log_path)}")


def stop_process(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> int:
    """SIGTERM the process, SIGKILL its whole group after `grace` seconds; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            kill_group(process)
    return process.wait()


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and its group, as a crash would (a process that just exited is no error)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@dataclass(frozen=True)
class ServerProcess:
    """A started server child: where it answers, its process and log, and how long it took to be ready."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    seconds_to_ready: float

    @property
    def base_url(self) -> str:
        """The server's loopback URL."""
        return f"http://{LOOPBACK}:{self.port}"

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> int:
        """Stop the server (TERM, then KILL); its exit code."""
        return stop_process(self.process, grace)


def start_server(name: str, command_for_port: Callable[[int], Command], log_path: Path,
                 ready_path: str = "/ready", timeout: float = 300.0) -> ServerProcess:
    """Start the command on a free port and wait for `ready_path` to answer 200 (new port on a port race)."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        argv, env = command_for_port(port)
        started = time.monotonic()
        process = launch(argv, env, log_path)
        try:
            wait_until_answers(f"http://{LOOPBACK}:{port}{ready_path}", process, log_path, timeout)
        except ServerStartError:
            stop_process(process)
            if attempt < PORT_ATTEMPTS and ADDRESS_IN_USE in log_tail(log_path):
                continue
            raise
        return ServerProcess(name, port, process, log_path, time.monotonic() - started)
    raise AssertionError("unreachable: the last attempt returns or raises")


@contextmanager
def serving(name: str, command_for_port: Callable[[int], Command], log_path: Path,
            ready_path: str = "/ready", timeout: float = 300.0) -> Iterator[ServerProcess]:
    """`start_server` as a context manager that always stops the server."""
    server = start_server(name, command_for_port, log_path, ready_path, timeout)
    try:
        yield server
    finally:
        server.stop()
