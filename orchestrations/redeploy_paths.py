"""The three ways a deploy reaches its new version, as orchestrator sub-generators (pure: no I/O, replay-safe).

- swap: the running server swaps its adapter, behind the gate it runs itself; a failed gate changes nothing.
- blue_green: start a candidate, wait until it is ready (monitor on durable timers, fail fast on a crash), send it
  the smoke gate, then promote it in one step. A candidate that crashes, never gets ready or fails the gate is
  discarded: no traffic moved, the serving revision keeps serving, the deploy fails saying why.
- restart: a new revision in place, then wait until ready (the seed's way; downtime while the model loads).
A swap the serving server cannot do goes blue-green; a blue-green with no second replica restarts in place.
"""

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.constants import DATETIME_STRING_FORMAT

from activities.check_readiness import check_readiness
from activities.discard_candidate import discard_candidate
from activities.probe_candidate import probe_candidate
from activities.promote_candidate import promote_candidate
from activities.restart_revision import restart_revision
from activities.smoke_gate import smoke_gate
from activities.start_candidate import start_candidate
from activities.swap_adapter import swap_adapter
from orchestrations.policies import call_step, failure_reason
from orchestrations.progress import Progress
from payloads.redeploy import (
    CandidateResult,
    GateResult,
    PromoteResult,
    Strategy,
    SwapResult,
    default_gate,
    gate_failure,
)
from payloads.redeploy_steps import GateInput, RevisionInput, StrategyChoice, SwapInput
from payloads.steps import DeployJob, ReadinessInput, ReadinessResult, RestartInput, RestartResult

PREPARE = ("sync_code", "snapshot_adapter", "choose_strategy")
STEPS: dict[Strategy, tuple[str, ...]] = {
    "restart": (*PREPARE, "restart", "wait_ready", "record"),
    "swap": (*PREPARE, "swap_adapter", "record"),
    "blue_green": (*PREPARE, "start_candidate", "wait_candidate", "smoke_gate", "promote", "record"),
}
"""The steps each strategy shows in the status (step_number / total_steps)."""

Steps = Generator[Any, Any, Any]


class ReadinessTimeout(RuntimeError):
    """The new revision did not answer /ready before the deadline."""


class CandidateRejected(RuntimeError):
    """The candidate failed readiness or the gate; it was discarded and no traffic moved."""


@dataclass(frozen=True)
class Landed:
    """Where the new version serves, and how it got there."""

    revision: str
    endpoint: str
    strategy: Strategy


def wait_until_ready(context: df.DurableOrchestrationContext, revision: str, job: DeployJob, progress: Progress,
                     probe_activity: Callable[..., Any] = check_readiness) -> Generator[Any, Any, None]:
    """Monitor pattern: probe, then sleep on a durable timer, until ready, failed, or past the deadline."""
    timeout = job.readiness_timeout_s
    began = context.current_utc_datetime
    deadline = began + timedelta(seconds=timeout)
    probe_input = ReadinessInput(target=job.target, app_name=job.app_name, azure=job.azure,
                                 revision=revision).model_dump(mode="json")
    probes = 0
    while True:
        probe = ReadinessResult.model_validate((yield context.call_activity(probe_activity, probe_input)))
        probes += 1
        if probe.ready:
            return
        if probe.failed:
            raise RuntimeError(probe.detail)
        if context.current_utc_datetime >= deadline:
            raise ReadinessTimeout(f"revision {revision} was not ready within {timeout} s; last probe: {probe.detail}")
        elapsed = int((context.current_utc_datetime - began).total_seconds())
        progress.publish(detail=f"{probe.detail}; {elapsed} s of {timeout} s", elapsed_s=elapsed, timeout_s=timeout,
                         deadline=deadline.strftime(DATETIME_STRING_FORMAT), probes=probes)
        next_probe = context.current_utc_datetime + timedelta(seconds=job.poll_seconds)
        yield context.create_timer(min(next_probe, deadline))


def restart(context: df.DurableOrchestrationContext, job: DeployJob, version: str, progress: Progress,
            why: str = "") -> Generator[Any, Any, Landed]:
    """A new revision in place, then wait until it serves."""
    progress.plan(STEPS["restart"])
    progress.start("restart", f"Starting a revision with adapter {version}{why}")
    restart_input = RestartInput(target=job.target, app_name=job.app_name, azure=job.azure,
                                 base_model=job.base_model, version=version)
    started = RestartResult.model_validate((yield call_step(context, restart_revision, restart_input)))
    progress.record("restart", revision=started.revision)
    progress.start("wait_ready", f"Waiting for {started.revision} to serve")
    yield from wait_until_ready(context, started.revision, job, progress)
    return Landed(started.revision, started.endpoint, "restart")


def swap(context: df.DurableOrchestrationContext, job: DeployJob, version: str, choice: StrategyChoice,
         progress: Progress) -> Generator[Any, Any, Landed | None]:
    """Swap in the running server behind the gate; None when that server cannot swap at all."""
    progress.plan(STEPS["swap"])
    progress.start("swap_adapter", f"Swapping adapter {choice.serving_version} for {version} in the running server "
                                   f"(gated; {choice.serving_revision} keeps serving)")
    swap_input = SwapInput(target=job.target, app_name=job.app_name, azure=job.azure, version=version,
                           gate=job.gate or default_gate())
    result = SwapResult.model_validate((yield call_step(context, swap_adapter, swap_input)))
    progress.record("swap_adapter", swapped=result.swapped, previous_version=result.previous_version,
                    paused_s=result.paused_s, detail=result.detail,
                    gate=result.gate.model_dump(mode="json") if result.gate else None)
    if result.unsupported:
        return None
    if not result.swapped:
        why = gate_failure(result.gate) if result.gate and not result.gate.passed else result.detail
        raise CandidateRejected(f"{why}; nothing changed: version {choice.serving_version} keeps serving")
    return Landed(choice.serving_revision or "", choice.serving_endpoint or "", "swap")


def blue_green(context: df.DurableOrchestrationContext, job: DeployJob, version: str, choice: StrategyChoice,
               progress: Progress) -> Generator[Any, Any, Landed | None]:
    """Candidate, readiness, gate, promote; None when no candidate can run (the status says why)."""
    progress.plan(STEPS["blue_green"])
    progress.start("start_candidate", f"Starting a candidate with adapter {version} beside {choice.serving_revision}")
    candidate_input = RestartInput(target=job.target, app_name=job.app_name, azure=job.azure,
                                   base_model=job.base_model, version=version)
    candidate = CandidateResult.model_validate((yield call_step(context, start_candidate, candidate_input)))
    progress.record("start_candidate", revision=candidate.revision, url=candidate.url, fallback=candidate.fallback)
    if candidate.fallback or not candidate.revision or not candidate.url:
        return None
    revision = candidate.revision
    try:
        progress.start("wait_candidate", f"Waiting for candidate {revision} to be ready (no traffic yet)")
        yield from wait_until_ready(context, revision, job, progress, probe_candidate)
        progress.start("smoke_gate", f"Sending the smoke gate to candidate {revision}")
        gate_input = GateInput(target=job.target, app_name=job.app_name, azure=job.azure, url=candidate.url,
                               gate=job.gate or default_gate())
        gate = GateResult.model_validate((yield call_step(context, smoke_gate, gate_input)))
        progress.record("smoke_gate", passed=gate.passed, gate=gate.model_dump(mode="json"))
        if not gate.passed:
            raise CandidateRejected(gate_failure(gate))
    except Exception as error:
        yield from discard(context, job, revision, choice, progress, error)
    progress.start("promote", f"Moving all traffic to {revision}; {choice.serving_revision} drains")
    promoted = PromoteResult.model_validate((yield call_step(context, promote_candidate, RevisionInput(
        target=job.target, app_name=job.app_name, azure=job.azure, revision=revision))))
    progress.record("promote", revision=promoted.revision, previous_revision=promoted.previous_revision)
    return Landed(promoted.revision, promoted.endpoint, "blue_green")


def discard(context: df.DurableOrchestrationContext, job: DeployJob, revision: str, choice: StrategyChoice,
            progress: Progress, error: Exception) -> Generator[Any, Any, None]:
    """Stop the rejected candidate, then raise why it was rejected (the failing step stays the current one)."""
    progress.publish(detail=f"discarding candidate {revision}: {failure_reason(error)}")
    outcome = f"candidate {revision} was discarded, no traffic moved: {choice.serving_revision} keeps serving"
    try:
        yield call_step(context, discard_candidate, RevisionInput(target=job.target, app_name=job.app_name,
                                                                   azure=job.azure, revision=revision))
    except Exception as discard_error:
        outcome = (f"no traffic moved: {choice.serving_revision} keeps serving; discarding candidate {revision} "
                   f"failed too ({failure_reason(discard_error)})")
    progress.record("discard_candidate", revision=revision, reason=failure_reason(error))
    raise CandidateRejected(f"{failure_reason(error)}; {outcome}") from error


def reach_version(context: df.DurableOrchestrationContext, job: DeployJob, version: str, choice: StrategyChoice,
                  progress: Progress) -> Generator[Any, Any, Landed]:
    """Run the chosen strategy, falling back (swap → blue_green → restart) where the target cannot do it."""
    strategy = choice.strategy
    if strategy == "swap":
        landed = yield from swap(context, job, version, choice, progress)
        if landed is not None:
            return landed
        strategy = "blue_green"
        progress.record("choose_strategy", strategy=strategy,
                        reason=f"{choice.reason}, but the serving server cannot swap adapters: blue-green instead")
    if strategy == "blue_green":
        landed = yield from blue_green(context, job, version, choice, progress)
        if landed is not None:
            return landed
        fallback = progress.results.get("start_candidate", {}).get("fallback") or "no candidate could be started"
        progress.record("choose_strategy", strategy="restart",
                        reason=f"blue-green not possible ({fallback}): restarting in place instead")
        return (yield from restart(context, job, version, progress, why=f" in place: {fallback}"))
    return (yield from restart(context, job, version, progress))
