"""The orchestration engine: one dispatcher thread delivering inbox events, activities, timers, recovery."""

from __future__ import annotations

import json
import logging
import threading
import time

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.activities import ActivityOutcome, ActivityRunner
from devtools.devhost.app_loader import FunctionIndex
from devtools.devhost.episode import new_instance, start_message
from devtools.devhost.episode_runner import EpisodeResult, fail_episode, run_episode
from devtools.devhost.history import (
    event_raised,
    execution_terminated,
    format_time,
    outstanding,
    parse_time,
    task_completed,
    task_failed,
    timer_fired,
    utc_now,
)
from devtools.devhost.records import CURRENT_EXECUTION
from devtools.devhost.store import Instance, InstanceQuery, Message, Store
from devtools.devhost.timers import TimerService
from devtools.devhost.work_items import ActivityWork, TimerWork

log = logging.getLogger("devhost")
UNFINISHED = InstanceQuery(statuses=frozenset({Status.Pending, Status.Running, Status.Suspended}))


class UnknownOrchestratorError(LookupError):
    """Raised when a client asks to start an orchestrator the app does not define."""


class Engine:
    """Runs orchestrations: replays one inbox event at a time, runs activities, fires timers."""

    def __init__(self, store: Store, index: FunctionIndex, replace_live_instances: bool = False) -> None:
        self.store = store
        self.index = index
        self.replace_live_instances = replace_live_instances
        self.activities = ActivityRunner(index.activities, self._activity_done)
        self.timers = TimerService(self._timer_fired)
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="orchestrations", daemon=True)

    def start(self) -> None:
        """Resume unfinished work from the store, then start dispatching."""
        self._recover()
        self.timers.start()
        self._thread.start()

    def stop(self, grace_seconds: float) -> bool:
        """Stop dispatching; give running activities grace_seconds to finish. True if they all did."""
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self.timers.stop()
        return self.activities.shutdown(grace_seconds)

    def start_new(self, name: str, instance_id: str, input_json: str | None) -> Instance:
        """Create an instance of orchestrator `name` and queue its start (InstanceExistsError if the id is live)."""
        if name not in self.index.orchestrators:
            raise UnknownOrchestratorError(f"The function '{name}' doesn't exist, is disabled, or is not an "
                                           "orchestrator function.")
        now = utc_now()
        instance = new_instance(instance_id, name, input_json, now)
        self.store.create(instance, start_message(instance, now), replace_live=self.replace_live_instances)
        self._wake.set()
        return instance

    def raise_event(self, instance: Instance, name: str, data_json: str | None) -> bool:
        """Queue an external event for a running instance; False if it has finished.

        The event targets the instance, not the execution that was current when it was raised: one raised just
        before a continue_as_new is delivered to the new execution once that has started (as the extension does).
        """
        raised = event_raised(name, data_json, utc_now())
        queued = self.store.enqueue(Message(instance.instance_id, CURRENT_EXECUTION, raised))
        self._wake.set()
        return queued

    def terminate(self, instance: Instance, reason: str) -> None:
        """Terminate a running instance with a reason (its output)."""
        now, reason_json = utc_now(), json.dumps(reason)
        instance.status = Status.Terminated
        instance.output = reason_json
        instance.last_updated_time = format_time(now)
        self.store.terminate(instance, execution_terminated(reason_json, now))
        log.info("Terminated orchestration (Id=%s)", instance.instance_id)

    def set_suspended(self, instance: Instance, suspended: bool) -> None:
        """Suspend (events wait in the inbox) or resume a live instance."""
        status = Status.Suspended if suspended else Status.Running
        self.store.set_status(instance.instance_id, status, format_time(utc_now()))
        log.info("%s orchestration (Id=%s)", "Suspended" if suspended else "Resumed", instance.instance_id)
        self._wake.set()

    def _activity_done(self, outcome: ActivityOutcome) -> None:
        work, now = outcome.work, utc_now()
        if outcome.failure is None:
            done = task_completed(work.task_id, outcome.result_json, now)
        else:
            reason, details = outcome.failure
            done = task_failed(work.task_id, reason, details, now)
        self.store.enqueue(Message(work.instance_id, work.execution_id, done))
        self._wake.set()

    def _timer_fired(self, timer: TimerWork) -> None:
        fired = timer_fired(timer.timer_id, timer.fire_at, utc_now())
        self.store.enqueue(Message(timer.instance_id, timer.execution_id, fired))
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.clear()
            message = self.store.next_message()
            if message is None:
                self._wake.wait(timeout=1.0)
                continue
            try:
                self._deliver(message)
            except Exception:
                log.exception("devhost could not deliver a message to %s; retrying", message.instance_id)
                self._stopped.wait(1.0)

    def _episode(self, instance: Instance, message: Message) -> EpisodeResult:
        now = utc_now()
        handle = self.index.orchestrators.get(instance.name)
        if handle is None:
            return fail_episode(instance, message, f"The orchestrator function '{instance.name}' doesn't exist.", now)
        try:
            return run_episode(instance, self.store.history(instance.instance_id), message, handle, now)
        except Exception as exc:
            log.exception("devhost failed to run an episode of %s", instance.instance_id)
            return fail_episode(instance, message, f"devhost internal error: {exc}", now)

    def _deliver(self, message: Message) -> None:
        instance = self.store.get(message.instance_id)
        stale = message.execution_id not in (instance.execution_id, CURRENT_EXECUTION) if instance else True
        if instance is None or instance.is_terminal or stale:
            self.store.drop_message(message.msg_id)
            return
        started = time.monotonic()
        result = self._episode(instance, message)
        self.store.apply(result.commit)
        for work in result.episode.activities:
            self.activities.submit(work)
        for timer in result.episode.timers:
            self.timers.arm(timer)
        log.info("Executed 'Functions.%s' (orchestrator, %s, Id=%s, Duration=%dms)", instance.name,
                 result.outcome.value, instance.instance_id, (time.monotonic() - started) * 1000)

    def _recover(self) -> None:
        for instance in self.store.list_instances(UNFINISHED):
            iid, execution = instance.instance_id, instance.execution_id
            tasks, timers = outstanding(self.store.history(iid), self.store.pending(iid, execution))
            for task in tasks:
                self.activities.submit(ActivityWork(iid, execution, task["EventId"], task["Name"], task.get("Input")))
            for timer in timers:
                self.timers.arm(TimerWork(iid, execution, timer["EventId"], parse_time(timer["FireAt"])))
            if tasks or timers:
                log.info("Resumed orchestration %s: %d activities re-run, %d timers re-armed", iid,
                         len(tasks), len(timers))
