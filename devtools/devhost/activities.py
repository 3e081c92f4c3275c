"""Run activity functions in worker threads, decoding input and encoding output as the Python worker does."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from devtools.devhost.app_loader import ActivityFunction
from devtools.devhost.invocation_context import log_executed
from devtools.devhost.work_items import ActivityWork

log = logging.getLogger("devhost")


@dataclass(frozen=True)
class ActivityOutcome:
    """The result of one activity run: a JSON result, or a failure reason and details."""

    work: ActivityWork
    result_json: str | None = None
    failure: tuple[str, str] | None = None


def _call(function: ActivityFunction, input_json: str | None) -> str:
    datum = meta.Datum(type="json", value=input_json if input_json is not None else "null")
    value = ActivityTriggerConverter.decode(datum, trigger_metadata=None)
    result = function.user_function(**{function.input_param: value})
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return str(ActivityTriggerConverter.encode(result, expected_type=None).value)


async def _await(awaitable: Any) -> Any:
    return await awaitable


def describe_failure(name: str, exc: BaseException) -> tuple[str, str]:
    """TaskFailed reason and details for an activity exception, readable by the orchestrator's user."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return f"Activity function '{name}' failed: {type(exc).__name__}: {exc}", where


class ActivityRunner:
    """A thread pool running activities and reporting each outcome through a callback."""

    def __init__(self, functions: dict[str, ActivityFunction], on_done: Callable[[ActivityOutcome], None],
                 max_workers: int = 16) -> None:
        self._functions = functions
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="activity")
        self._in_flight: set[Future[None]] = set()

    def submit(self, work: ActivityWork) -> None:
        """Start an activity in a worker thread."""
        future = self._pool.submit(self._run, work)
        self._in_flight.add(future)
        future.add_done_callback(self._in_flight.discard)

    def _run(self, work: ActivityWork) -> None:
        started = time.monotonic()
        function = self._functions.get(work.name)
        if function is None:
            outcome = ActivityOutcome(work, failure=(f"The activity function '{work.name}' doesn't exist.", ""))
        else:
            try:
                outcome = ActivityOutcome(work, result_json=_call(function, work.input_json))
            except Exception as exc:  # the host's log keeps the traceback; the orchestration gets reason and place
                log.warning("Activity '%s' failed (Id=%s)", work.name, work.instance_id, exc_info=exc)
                outcome = ActivityOutcome(work, failure=describe_failure(work.name, exc))
        log_executed(work.name, outcome.failure is None, work.instance_id, started)
        self._on_done(outcome)

    def shutdown(self, grace_seconds: float) -> bool:
        """Stop taking work, wait up to grace_seconds for running activities; True if all finished."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace_seconds
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self._in_flight
