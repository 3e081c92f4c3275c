"""Blue-green on the local target: a candidate server beside the serving one, then promoted or discarded.

All through app.json (the desired state) and SIGHUP, read back from state.json (see targets.local.supervisor).
"""

import time
from collections.abc import Callable

import requests

from payloads.redeploy import CandidateResult, PromoteResult
from payloads.steps import ReadinessResult
from targets.local.app_files import AppFiles, AppSpec, CandidateSpec, ServerSpec, SupervisorState
from targets.local.process_control import signal_or_launch

SWITCH_TIMEOUT_S = 30.0


def wait_for_state(files: AppFiles, holds: Callable[[SupervisorState], bool], timeout: float) -> bool:
    """Poll state.json until `holds`; whether it did within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holds(files.read_state()):
            return True
        time.sleep(0.05)
    return holds(files.read_state())


def start(files: AppFiles, spec: AppSpec, server: ServerSpec) -> CandidateResult:
    """Name the next revision, write it as the app's candidate and have the supervisor start it."""
    spec.revision_number += 1
    revision = f"{spec.name}--{spec.revision_number}"
    spec.candidate = CandidateSpec(revision=revision, server=server)
    files.write_spec(spec)
    signal_or_launch(files)
    return CandidateResult(revision=revision, url=f"http://127.0.0.1:{server.port}")


def probe(files: AppFiles, spec: AppSpec, revision: str) -> ReadinessResult:
    """Ready when the candidate runs and its own /ready answers 200 for it; failed once it exited or was dropped."""
    state = files.read_state()
    if state.revision == revision:
        return ReadinessResult(ready=True, detail=f"revision {revision} serves already")
    if spec.candidate is None or spec.candidate.revision != revision:
        return ReadinessResult(ready=False, failed=True, detail=f"candidate {revision} was discarded or replaced")
    running = state.candidate
    if running is None or running.revision != revision or running.port is None:
        return ReadinessResult(ready=False, detail=f"candidate {revision} not started yet")
    if running.status == "crashed":
        detail = (f"candidate {revision} exited (exit code {running.last_exit_code}); "
                  f"{files.crash_report(revision)}")
        return ReadinessResult(ready=False, failed=True, detail=detail)
    try:
        reply = requests.get(f"http://127.0.0.1:{running.port}/ready", timeout=3)
    except requests.RequestException:
        return ReadinessResult(ready=False, detail=f"candidate {revision} is starting (not listening yet)")
    if reply.status_code != 200:
        return ReadinessResult(ready=False, detail=f"candidate {revision} is loading (/ready: {reply.status_code})")
    answered = reply.json().get("revision") if reply.headers.get("content-type", "").startswith("application/json") \
        else None
    if answered != revision:
        return ReadinessResult(ready=False, detail=f"candidate {revision}'s port is answered by {answered}")
    return ReadinessResult(ready=True, detail=f"candidate {revision} is ready")


def promote(files: AppFiles, spec: AppSpec, revision: str, endpoint: str) -> PromoteResult:
    """Make the candidate the serving revision; returns once the front sends new requests to it."""
    previous = spec.revision
    if spec.revision != revision:
        if spec.candidate is None or spec.candidate.revision != revision:
            raise LookupError(f"revision {revision} is not the app's candidate (it was discarded or replaced)")
        spec.revision, spec.server, spec.candidate = revision, spec.candidate.server, None
        files.write_spec(spec)
        signal_or_launch(files)
    if not wait_for_state(files, lambda state: state.revision == revision, SWITCH_TIMEOUT_S):
        raise TimeoutError(f"the app's supervisor did not switch to {revision} within {SWITCH_TIMEOUT_S:.0f} s")
    return PromoteResult(revision=revision, endpoint=endpoint,
                         previous_revision=previous if previous != revision else None)


def discard(files: AppFiles, spec: AppSpec, revision: str) -> None:
    """Drop the candidate (the serving revision is untouched); returns once it is no longer run."""
    if spec.candidate is not None and spec.candidate.revision == revision:
        spec.candidate = None
        files.write_spec(spec)
        signal_or_launch(files)
    wait_for_state(files, lambda state: state.candidate is None or state.candidate.revision != revision,
                   SWITCH_TIMEOUT_S)
