"""Swapping the adapter of a running inference server through its admin route (POST /admin/adapter)."""

from typing import Any

import requests

from payloads.redeploy import GateResult, SmokeGate, SwapResult

UNSUPPORTED = (401, 404)
"""No admin route (ADMIN_API_KEY unset: a server started before swaps existed) or another key: cannot swap."""


def _error(reply: requests.Response) -> tuple[str, str, dict[str, Any]]:
    """The error's type and message, and the whole JSON body ({} when not JSON)."""
    try:
        body = reply.json()
    except ValueError:
        return "", reply.text[:200], {}
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    return str(error.get("type") or ""), str(error.get("message") or reply.text[:200]), body


def _gate(body: dict[str, Any]) -> GateResult | None:
    gate = body.get("gate")
    return GateResult.model_validate(gate) if isinstance(gate, dict) else None


def swap_via_admin_route(endpoint: str, admin_key: str, version: str, adapter_path: str, gate: SmokeGate | None,
                         timeout_s: float) -> SwapResult:
    """Ask the server at `endpoint` to serve `version` from `adapter_path`, behind `gate`; what happened.

    A failed gate or an adapter that does not load leaves the old version serving (swapped False); a busy server
    or no answer raises (the step is retried).
    """
    body = {"version": version, "adapter_path": adapter_path,
            "gate": gate.model_dump(mode="json", exclude_none=True) if gate else None}
    try:
        reply = requests.post(f"{endpoint}/admin/adapter", json=body, timeout=timeout_s,
                              headers={"Authorization": f"Bearer {admin_key}"})
    except requests.RequestException as error:
        raise ConnectionError(f"the app's server did not answer the adapter swap: {type(error).__name__}") from None
    kind, message, answer = _error(reply) if reply.status_code != 200 else ("", "", reply.json())
    if reply.status_code == 200:
        return SwapResult(swapped=True, version=str(answer.get("version") or version),
                          previous_version=answer.get("previous_version"), paused_s=float(answer.get("paused_s") or 0),
                          gate=_gate(answer), detail=f"swapped in place to {version}")
    if reply.status_code == 409 and kind == "swap_in_progress":
        raise RuntimeError("another adapter swap is running on the app's server; retrying")
    if reply.status_code in UNSUPPORTED:
        return SwapResult(swapped=False, version=version, unsupported=True,
                          detail=f"the serving server cannot swap adapters ({reply.status_code}: {message})")
    if reply.status_code in (409, 422, 503):
        return SwapResult(swapped=False, version=version, gate=_gate(answer),
                          detail=f"the server kept its adapter ({reply.status_code} {kind}: {message})")
    raise RuntimeError(f"the adapter swap was answered {reply.status_code}: {message}")
