"""The engine in-process, on orchestrators built with `.build().get_user_function()`-style indexing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import azure.durable_functions as df
import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.app_loader import index_functions
from devtools.devhost.engine import Engine
from devtools.devhost.store import Instance, Store

app = df.DFApp()
calls: dict[str, int] = {}


@app.activity_trigger(input_name="key")
def fail_twice(key: str) -> str:
    """Fail on the first two calls for a key."""
    calls[key] = calls.get(key, 0) + 1
    if calls[key] <= 2:
        raise RuntimeError(f"attempt {calls[key]} failed")
    return f"{key} ok after {calls[key]}"


@app.activity_trigger(input_name="n")
def double(n: int) -> int:
    """Double a number."""
    return 2 * n


@app.orchestration_trigger(context_name="context")
def retry_next_to_plain_tasks(context: df.DurableOrchestrationContext):
    """A with-retry task in parallel with plain tasks, then more tasks after it."""
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=50, max_number_of_attempts=3)
    first = yield context.task_all([
        context.call_activity_with_retry(fail_twice, retry, context.instance_id),
        context.call_activity(double, 1),
        context.call_activity(double, 2),
    ])
    after = yield context.call_activity(double, 21)
    return [*first, after]


@app.orchestration_trigger(context_name="context")
def first_of_two_events(context: df.DurableOrchestrationContext):
    """Wait for whichever of two named events comes first, then the other."""
    left = context.wait_for_external_event("Left")
    right = context.wait_for_external_event("Right")
    winner = yield context.task_any([left, right])
    other = right if winner == left else left
    rest = yield other
    return [winner.result, rest, context.current_utc_datetime.year > 2000]


@app.orchestration_trigger(context_name="context")
def count_across_generations(context: df.DurableOrchestrationContext):
    """Take one "tick" per execution and continue as new with the count, until it reaches the target."""
    state = context.get_input()
    tick = yield context.wait_for_external_event("tick")
    seen = [*state["seen"], tick]
    if len(seen) >= state["target"]:
        return seen
    context.continue_as_new({"target": state["target"], "seen": seen})
    return None


INDEX = index_functions([app])  # get_functions() may be called only once per app


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A started engine over a fresh state dir."""
    running = Engine(Store(tmp_path / "state"), INDEX)
    running.start()
    yield running
    running.stop(grace_seconds=2)
    running.store.close()


def _wait_finished(engine: Engine, instance_id: str, timeout: float = 60.0) -> Instance:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        instance = engine.store.get(instance_id)
        if instance is not None and instance.is_terminal:
            return instance
        time.sleep(0.05)
    raise AssertionError(f"{instance_id} did not finish: {engine.store.get(instance_id)}")


def test_index_finds_orchestrators_and_activities_through_the_functions_api() -> None:
    index = INDEX
    assert set(index.orchestrators) == {"retry_next_to_plain_tasks", "first_of_two_events", "count_across_generations"}
    assert set(index.activities) == {"fail_twice", "double"}
    assert index.orchestrators["first_of_two_events"] is first_of_two_events.build().get_user_function()


def test_retry_keeps_task_ids_in_step_with_the_sdk(engine: Engine) -> None:
    engine.start_new("retry_next_to_plain_tasks", "mixed", None)
    instance = _wait_finished(engine, "mixed")
    assert instance.status is Status.Completed, instance.output
    assert instance.output == '["mixed ok after 3", 2, 4, 42]'


def test_events_are_delivered_by_name_in_any_order(engine: Engine) -> None:
    instance = engine.start_new("first_of_two_events", "events", None)
    assert engine.raise_event(instance, "Right", '"r"')
    assert engine.raise_event(instance, "Left", '"l"')
    finished = _wait_finished(engine, "events")
    assert finished.output == '["r", "l", true]'


def test_an_event_raised_before_a_continue_as_new_reaches_the_next_execution(engine: Engine) -> None:
    """As in the extension, a raised event targets the instance, not the execution current when it was raised:
    ticks raised while earlier ones are still being handled (each handled by continuing as new) all arrive."""
    instance = engine.start_new("count_across_generations", "ticks", '{"target": 6, "seen": []}')
    for n in range(6):
        assert engine.raise_event(instance, "tick", str(n))
    finished = _wait_finished(engine, "ticks")
    assert finished.status is Status.Completed, finished.output
    assert finished.output == "[0, 1, 2, 3, 4, 5]"
