"""An in-place adapter swap on Azure: POST /admin/adapter on the serving revision, with the app's admin key.

The key is the app's `admin-key` secret (listSecrets, as provisioning reads the API key); the server has it as
ADMIN_API_KEY. The request goes to the serving revision's own URL (its revision-specific FQDN; the app's endpoint when
Container Apps reports none), so a candidate beside it is never the one swapped. The server answers 200 (swapped),
409 (its gate failed and the old version serves again, or another swap runs), 422 (the adapter cannot be loaded,
nothing changed), 503 (the running batch did not drain in time, nothing changed), 404 (no admin key: a server
provisioned before swaps existed) or 401 (the key is not the one the server started with).

One replica only: the admin route reaches whichever replica the request lands on. With more than one replica
running, or no admin route, the result is `unsupported` and the deploy goes blue-green instead (a new revision
starts every replica on the new version). A replica started later (scale-out, restart) reads ADAPTER_POINTER, the
deploy's record of the version a swap installed, so it serves the swapped version too.

A broken connection before any answer is retried a few times (a swap that did not arrive changed nothing; one that
did is refused with 409 swap_in_progress, or finds the version already serving). The key is never logged, returned
or put in an error.
"""

import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import requests

from payloads.redeploy import GateResult, SmokeGate, SwapResult
from share_layout import paths

ADMIN_ROUTE = "/admin/adapter"
CONNECT_TRIES = 3
RETRY_PAUSE_S = 1.0
CONNECT_TIMEOUT_S = 10.0
LOAD_ALLOWANCE_S = 300.0
"""What a swap may take besides its gate: draining the running batch and loading the adapter."""


@dataclass(frozen=True)
class SwapTarget:
    """Where and how to swap: the serving revision's URL, its share mount path, and the admin key."""

    revision: str
    url: str
    mount_path: str
    admin_key: str


def swap_body(version: str, mount_path: str, gate: SmokeGate | None) -> dict[str, Any]:
    """The admin route's body: the version, its adapter folder inside the container, and the gate (None: none)."""
    adapter = PurePosixPath(mount_path) / paths.adapter_version_dir(version)
    prompts = gate.model_dump(mode="json", exclude_none=True) if gate and gate.prompts else None
    return {"version": version, "adapter_path": str(adapter), "gate": prompts}


def _timeout(gate: SmokeGate | None) -> tuple[float, float]:
    prompts = len(gate.prompts) if gate else 0
    return CONNECT_TIMEOUT_S, LOAD_ALLOWANCE_S + (gate.deadline_s * max(prompts, 1) if gate else 0.0)


def _post(target: SwapTarget, body: dict[str, Any], gate: SmokeGate | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {target.admin_key}"}
    for attempt in range(1, CONNECT_TRIES + 1):
        try:
            return requests.post(f"{target.url}{ADMIN_ROUTE}", json=body, headers=headers, timeout=_timeout(gate))
        except requests.ConnectionError as error:
            if attempt == CONNECT_TRIES:
                raise ConnectionError(
                    f"the admin route of revision {target.revision} ({target.url}{ADMIN_ROUTE}) did not answer "
                    f"after {CONNECT_TRIES} tries ({type(error).__name__}); is the revision running?") from None
            time.sleep(RETRY_PAUSE_S * attempt)
    raise AssertionError("unreachable")


def _error(reply: requests.Response) -> tuple[str, str, Any]:
    """(type or code, message, gate) of an error answer."""
    try:
        document = reply.json()
    except ValueError:
        return "", reply.text[:300], None
    error = document.get("error") or {} if isinstance(document, dict) else {}
    kind = str(error.get("type") or error.get("code") or "")
    return kind, str(error.get("message") or document), document.get("gate") if isinstance(document, dict) else None


def swap_result(version: str, target: SwapTarget, reply: requests.Response) -> SwapResult:
    """The server's answer as a SwapResult; RuntimeError for an answer no deploy can act on."""
    where = f"revision {target.revision}"
    if reply.status_code == 200:
        body = reply.json()
        return SwapResult(swapped=True, version=str(body.get("version") or version),
                          previous_version=body.get("previous_version"), paused_s=float(body.get("paused_s") or 0),
                          gate=GateResult.model_validate(body["gate"]) if body.get("gate") else None,
                          detail=f"{where} swapped to {version} in place")
    kind, message, gate = _error(reply)
    gate_result = GateResult.model_validate(gate) if gate else None
    if reply.status_code == 404:
        return SwapResult(swapped=False, version=version, unsupported=True,
                          detail=f"{where} has no admin route or no ADMIN_API_KEY ({message}): provision again to "
                                 "add the admin key; a blue-green deploy serves the new version meanwhile")
    if reply.status_code in (409, 422, 503):
        reason = {409: "the gate failed; the old version serves again" if kind == "gate_failed" else message,
                  422: f"the adapter could not be loaded, nothing changed: {message}",
                  503: f"the running batch did not drain in time, nothing changed: {message}"}[reply.status_code]
        return SwapResult(swapped=False, version=version, gate=gate_result, detail=f"{where}: {reason}")
    if reply.status_code == 401:
        raise RuntimeError(f"{where} refused the app's admin key (401): the app's admin-key secret changed since "
                           "the revision started; restart the revision so that it reads the secret again")
    raise RuntimeError(f"{where} answered the swap of {version} with {reply.status_code}: {message}")


def swap_in_place(version: str, target: SwapTarget, gate: SmokeGate | None) -> SwapResult:
    """POST the swap to the serving revision and map its answer (see the module)."""
    reply = _post(target, swap_body(version, target.mount_path, gate), gate)
    return swap_result(version, target, reply)
