"""Activity: send the smoke gate's prompts to a candidate at its own URL, greedy, and judge each reply.

A prompt passes when it is answered within what is left of the gate's deadline, non-empty, and containing every
expected substring. The app's API key comes from the target's app host (an optional `api_key(app)`), never into
the transcript.
"""

import time
from typing import Any, Protocol, runtime_checkable

import azure.durable_functions as df
import requests

from payloads.redeploy import GatePrompt, GateResult, GateStep, SmokeGate
from payloads.redeploy_steps import GateInput
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@runtime_checkable
class ApiKeySource(Protocol):
    """An app host that can tell the key its servers check."""

    def api_key(self, app_name: str) -> str | None:
        """The app's API key, or None when its servers check none."""


def prompt_text(prompt: GatePrompt) -> str:
    """What the transcript shows of a prompt: the plain prompt, or the last chat message."""
    if prompt.messages:
        return prompt.messages[-1].get("content", "")
    return prompt.prompt or ""


def model_id(session: requests.Session, url: str, timeout: float) -> str:
    """The model to ask: the adapter (the card with a parent) when served, else the base model."""
    reply = session.get(f"{url}/v1/models", timeout=timeout)
    reply.raise_for_status()
    cards = reply.json()["data"]
    return str(next((card["id"] for card in cards if card.get("parent")), cards[0]["id"]))


def ask(session: requests.Session, url: str, model: str, prompt: GatePrompt, gate: SmokeGate, timeout: float) -> str:
    """The candidate's reply to one prompt (greedy, at most the gate's max_tokens)."""
    body: dict[str, Any] = {"model": model, "max_tokens": gate.max_tokens, "temperature": 0}
    if prompt.messages:
        reply = session.post(f"{url}/v1/chat/completions", json=body | {"messages": prompt.messages}, timeout=timeout)
        reply.raise_for_status()
        return str(reply.json()["choices"][0]["message"].get("content") or "")
    reply = session.post(f"{url}/v1/completions", json=body | {"prompt": prompt.prompt or ""}, timeout=timeout)
    reply.raise_for_status()
    return str(reply.json()["choices"][0].get("text") or "")


def judge(reply: str, prompt: GatePrompt) -> str:
    """Why a reply fails the prompt ("" when it passes)."""
    if not reply.strip():
        return "the reply is empty"
    missing = [expected for expected in prompt.expect if expected not in reply]
    return f"the reply lacks {', '.join(repr(item) for item in missing)}" if missing else ""


def failure(error: Exception, timeout: float) -> str:
    """A request's failure in words, without secrets or stack."""
    if isinstance(error, requests.Timeout):
        return f"no answer within {timeout:.1f} s (the gate's deadline)"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"answered HTTP {error.response.status_code}: {error.response.text[:160]}"
    return f"request failed: {type(error).__name__}"


def run_gate(url: str, api_key: str | None, gate: SmokeGate) -> GateResult:
    """Every prompt in turn, within the gate's deadline; passed only when each one did."""
    began = time.monotonic()
    session = requests.Session()
    if api_key:
        session.headers["Authorization"] = f"Bearer {api_key}"
    transcript: list[GateStep] = []
    model: str | None = None
    for prompt in gate.prompts:
        started = time.monotonic()
        left = max(gate.deadline_s - (started - began), 0.1)
        reply, reason = "", ""
        try:
            model = model or model_id(session, url, left)
            reply = ask(session, url, model, prompt, gate, max(gate.deadline_s - (time.monotonic() - began), 0.1))
            reason = judge(reply, prompt)
        except (requests.RequestException, KeyError, IndexError, ValueError) as error:
            reason = failure(error, left)
        transcript.append(GateStep(prompt=prompt_text(prompt)[:200], reply=reply[:500], passed=not reason,
                                   seconds=round(time.monotonic() - started, 3), reason=reason))
    return GateResult(passed=all(step.passed for step in transcript), transcript=transcript)


@bp.activity_trigger(input_name="payload")
def smoke_gate(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the gate against the candidate's own URL with the app's API key; the verdict and transcript."""
    step = GateInput.model_validate(payload)
    apps = get_target(step.target, get_settings(), step.azure).apps
    key = apps.api_key(step.app_name) if isinstance(apps, ApiKeySource) else None
    return run_gate(step.url.rstrip("/"), key, step.gate).model_dump(mode="json")
