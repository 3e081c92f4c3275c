"""Payloads of zero-downtime redeploys: the smoke gate, an in-place adapter swap, a blue-green candidate.

Shared by the deploy orchestration, its activities and both targets (targets/local, targets/azure). Tolerant like
every step payload (payloads.steps.Payload): they live in Durable history.
"""

from typing import Any, Literal

from pydantic import Field, field_validator

from payloads.tolerant import Payload

Strategy = Literal["swap", "blue_green", "restart"]
"""How a deploy reaches the new version: swap the adapter in the running server (only the adapter changed),
start a candidate beside the serving one and move traffic once it passed the gate (code or image changed), or
restart in place (the seed's way; the fallback when no second replica can be had)."""

RequestedStrategy = Literal["auto", "restart", "blue_green"]
"""What a deploy request may ask for: auto (chosen from what changed), or force a restart or a blue-green."""


class GatePrompt(Payload):
    """One smoke-gate prompt: chat messages or a plain prompt, and substrings the reply must contain."""

    messages: list[dict[str, str]] | None = None
    prompt: str | None = None
    expect: list[str] = Field(default_factory=list)


class SmokeGate(Payload):
    """Prompts sent to the candidate before any traffic moves; each must answer in time, non-empty, as expected."""

    prompts: list[GatePrompt] = Field(default_factory=list)
    deadline_s: float = 30.0
    max_tokens: int = 16


class GateStep(Payload):
    """One gate prompt's outcome, kept in the deploy's status and history."""

    prompt: str
    reply: str = ""
    passed: bool
    seconds: float = 0.0
    reason: str = ""

    @field_validator("reply", "reason", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return "" if value is None else value


class GateResult(Payload):
    """The gate's verdict and transcript."""

    passed: bool
    transcript: list[GateStep] = Field(default_factory=list)


class SwapResult(Payload):
    """An in-place adapter swap: the version serving now, the one before, how long new requests waited."""

    swapped: bool
    version: str
    previous_version: str | None = None
    paused_s: float = 0.0
    gate: GateResult | None = None
    detail: str = ""
    unsupported: bool = False
    """The serving server cannot swap (no admin route or key, e.g. started before swaps existed): go blue-green."""


class CandidateResult(Payload):
    """A blue-green candidate started beside the serving version (no traffic yet), or why it could not be.

    `fallback` set means no second replica can be had (maximum replicas 1, no quota, ...): the deploy restarts
    in place instead and its status says so.
    """

    revision: str | None = None
    url: str | None = None
    """Where the gate reaches the candidate directly (not through the endpoint users call)."""
    fallback: str | None = None


class PromoteResult(Payload):
    """Traffic moved to the candidate; the previous revision drains and stops."""

    revision: str
    endpoint: str
    previous_revision: str | None = None


DEFAULT_GATE_PROMPT = "Say hello."


def default_gate() -> SmokeGate:
    """The gate of a request that names none: one short chat prompt, any non-empty reply passes."""
    return SmokeGate(prompts=[GatePrompt(messages=[{"role": "user", "content": DEFAULT_GATE_PROMPT}])])


def gate_failure(gate: GateResult) -> str:
    """Why a gate failed, in one line: the first failing prompt and its reason."""
    failed = next((step for step in gate.transcript if not step.passed), None)
    if failed is None:
        return "the smoke gate failed"
    return f"the smoke gate failed on prompt {failed.prompt[:60]!r}: {failed.reason or 'no reason given'}"


def history_fields(custom_status: Any) -> dict[str, Any]:
    """What a deploy's status says about its strategy and gate, for the app's deployment history."""
    results = custom_status.get("results") if isinstance(custom_status, dict) else None
    if not isinstance(results, dict):
        return {}
    chosen = results.get("choose_strategy") or {}
    gate = (results.get("smoke_gate") or results.get("swap_adapter") or {}).get("gate")
    return {"strategy": chosen.get("strategy"), "strategy_reason": chosen.get("reason"), "gate": gate}
