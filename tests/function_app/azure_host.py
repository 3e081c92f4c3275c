"""The function app on the local host with its Azure settings pointing at the simulators, and a start-and-wait call."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devtools.devhost.process import HostProcess
from service_settings import FUNCTION_APP_ROOT
from tests.function_app.host import start
from tests.function_app.test_azure_deploy import poll_until_done

INFERENCE_IMAGE = "cr.example.io/finetune-inference:1"


@contextmanager
def simulated_azure_host(simulated_env: dict[str, str], work: Path, **extra: str) -> Iterator[HostProcess]:
    """devhost with the simulators' environment, fast polling and an inference image; `extra` adds settings."""
    env = {**simulated_env, "LOCAL_TARGET_ROOT": str(work / "local"), "READINESS_POLL_SECONDS": "1",
           "AZURE_PROVISIONING_POLL_SECONDS": "1", "AZURE_INFERENCE_IMAGE": INFERENCE_IMAGE, **extra}
    with HostProcess(FUNCTION_APP_ROOT, work / "devhost", function_key="test-key", env=env,
                     startup_timeout=120) as process:
        yield process


def run(host: HostProcess, route: str, body: dict[str, Any], seen: list[str]) -> dict[str, Any]:
    """POST /api/<route>, expect 202, then the instance's final status (every body read kept in `seen`)."""
    reply = start(host, route, body)
    seen.append(reply.text)
    assert reply.status_code == 202, reply.text
    return poll_until_done(host, reply.json()["id"], seen)
