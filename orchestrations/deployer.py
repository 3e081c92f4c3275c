"""The per-app deployer: an eternal orchestration, `deployer_<app>`, the only thing that runs deploys of its app.

Starters raise `deploy_requested` ({request_id, job, trigger, requested_at}) to it. It runs one deploy at a time
as a sub-orchestration of `deploy` whose instance id is the request id; requests arriving meanwhile wait, and
when the deploy finishes only the newest of them runs: each older one becomes a `deploy_superseded`
sub-orchestration with its own request id, whose output names the request that replaced it.

A wait for `deploy_requested` is open at all times, including while a deploy runs: the SDK keeps an event that
arrives with no open wait in a dict keyed by the event's name, so a second such event would overwrite the first.
Each event completes the open wait and a new one is opened before the next event is processed.

History stays bounded: once idle after handling something, the deployer continues as new with a small state
(recent request ids for dedupe, what serves now). An event in the same batch as continue_as_new may be dropped
by the backend; starters raise again until their id shows in `accepted` (http_api.deploy_queue), and ids already
seen are ignored.
"""

from collections.abc import Generator
from datetime import datetime
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskBase, TaskState

from orchestrations import deploy
from payloads.apps import (
    DeployerState,
    DeployerStatus,
    DeployRequested,
    LastOutcome,
    QueuedRequest,
    RequestedDeploy,
    RunningDeploy,
    ServingNow,
    SupersededInput,
    SupersededOutput,
)
from payloads.steps import DeployOutput

NAME = "deployer"
SUPERSEDED = "deploy_superseded"
EVENT = "deploy_requested"
INSTANCE_PREFIX = "deployer_"
RECENT_LIMIT = 32
"""Request ids remembered for dedupe (and published as accepted); the custom status must stay well under 8 K chars."""
MAX_QUEUED = 12
"""Requests held while a deploy runs; past this the oldest is superseded at once by the newest."""

bp = df.Blueprint()


class Book:
    """What the deployer knows: requests waiting (in arrival order), the one running, what serves, recent ids."""

    def __init__(self, state: DeployerState) -> None:
        self.state = state
        self.recent = list(state.recent)
        self.queued: list[DeployRequested] = []
        self.running: RunningDeploy | None = None

    def accept(self, request: DeployRequested) -> bool:
        """Queue a request unless its id was seen already; False for a duplicate."""
        running = self.running.request_id if self.running else None
        if request.request_id in self.recent or request.request_id == running:
            return False
        self.recent = [*self.recent, request.request_id][-RECENT_LIMIT:]
        self.queued.append(request)
        return True

    def newest(self) -> DeployRequested:
        """The newest waiting request: latest requested_at, the later arrival on a tie."""
        order = {id(item): index for index, item in enumerate(self.queued)}
        return max(self.queued, key=lambda item: (item.requested_at, order[id(item)]))

    def take_all(self) -> tuple[DeployRequested, list[DeployRequested]]:
        """The newest waiting request and every older one (to supersede); the queue is left empty."""
        newest = self.newest()
        older = [item for item in self.queued if item is not newest]
        self.queued = []
        return newest, older

    def overflow(self) -> list[DeployRequested]:
        """The oldest waiting requests beyond MAX_QUEUED, taken out of the queue (to supersede now)."""
        newest = self.newest()
        extra = len(self.queued) - MAX_QUEUED
        dropped = [item for item in self.queued if item is not newest][:max(extra, 0)]
        self.queued = [item for item in self.queued if all(item is not gone for gone in dropped)]
        return dropped

    def finished(self, request_id: str, task: TaskBase, now: datetime) -> None:
        """Record how the running deploy ended."""
        if task.state is TaskState.SUCCEEDED:
            output = DeployOutput.model_validate(task.result)
            self.state.serving = ServingNow(request_id=request_id, version=output.version, revision=output.revision,
                                            endpoint=output.endpoint, base_model=output.base_model,
                                            deployed_at=output.deployed_at)
            self.state.last = LastOutcome(request_id=request_id, result="succeeded", finished_at=now)
        else:
            self.state.last = LastOutcome(request_id=request_id, result="failed", finished_at=now)
        self.running = None

    def status(self) -> DeployerStatus:
        """The custom status starters and GET /api/status read."""
        queued = [QueuedRequest(request_id=item.request_id, requested_at=item.requested_at, trigger=item.trigger,
                                version=item.job.version) for item in self.queued]
        return DeployerStatus(app_name=self.state.app_name, state="deploying" if self.running else "idle",
                              running=self.running, queued=queued, accepted=self.recent,
                              serving=self.state.serving, last=self.state.last, generation=self.state.generation)

    def carried(self) -> DeployerState:
        """The input of the next generation."""
        return self.state.model_copy(update={"recent": self.recent, "generation": self.state.generation + 1})


def _supersede(context: df.DurableOrchestrationContext, older: DeployRequested, newer: DeployRequested) -> TaskBase:
    payload = SupersededInput(request_id=older.request_id, superseded_by=newer.request_id, job=older.job,
                              trigger=older.trigger, requested_at=older.requested_at)
    return context.call_sub_orchestrator(SUPERSEDED, payload.model_dump(mode="json"), older.request_id)


def _start_deploy(context: df.DurableOrchestrationContext, request: DeployRequested) -> TaskBase:
    job = RequestedDeploy(**request.job.model_dump(), request_id=request.request_id, trigger=request.trigger,
                          requested_at=request.requested_at)
    return context.call_sub_orchestrator(deploy.NAME, job.model_dump(mode="json"), request.request_id)


@bp.function_name(NAME)
@bp.orchestration_trigger(context_name="context")
def deployer(context: df.DurableOrchestrationContext) -> Generator[Any, Any, None]:
    """Run the app's deploys one at a time, newest request next; continue as new whenever idle after work."""
    book = Book(DeployerState.model_validate(context.get_input()))
    waiting = context.wait_for_external_event(EVENT)
    running: TaskBase | None = None
    superseding: list[TaskBase] = []
    handled = 0
    while True:
        if book.queued:
            for older in book.overflow():
                superseding.append(_supersede(context, older, book.newest()))
        if running is None and book.queued:
            newest, older_ones = book.take_all()
            superseding.extend(_supersede(context, older, newest) for older in older_ones)
            running = _start_deploy(context, newest)
            now = context.current_utc_datetime
            book.running = RunningDeploy(request_id=newest.request_id, requested_at=newest.requested_at,
                                         started_at=now)
        context.set_custom_status(book.status().model_dump(mode="json"))
        if running is None and not superseding and handled:
            context.continue_as_new(book.carried().model_dump(mode="json"))
            return
        done = yield context.task_any([waiting, *([running] if running else []), *superseding])
        handled += 1
        if done is waiting:
            waiting = context.wait_for_external_event(EVENT)  # opened before any further event is processed
            if done.state is TaskState.SUCCEEDED:
                book.accept(DeployRequested.model_validate(done.result))
        elif done is running and book.running is not None:
            book.finished(book.running.request_id, done, context.current_utc_datetime)
            running = None
        elif done in superseding:
            superseding.remove(done)


@bp.function_name(SUPERSEDED)
@bp.orchestration_trigger(context_name="context")
def deploy_superseded(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """A request that did not run because a newer one of the same app replaced it; the output says which."""
    request = SupersededInput.model_validate(context.get_input())
    message = (f"superseded by the newer request {request.superseded_by}, which deploys instead; poll "
               f"/api/status/{request.superseded_by}")
    context.set_custom_status({"step": "superseded", "message": message, "superseded_by": request.superseded_by})
    output = SupersededOutput(request_id=request.request_id, superseded_by=request.superseded_by,
                              app_name=request.job.app_name, version=request.job.version,
                              adapter_source=request.job.adapter_source, requested_at=request.requested_at,
                              superseded_at=context.current_utc_datetime, message=message)
    return output.model_dump(mode="json")
    yield  # a generator, as the SDK's orchestrator handle expects
