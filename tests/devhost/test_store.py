"""The store's instance queries (statuses, created-time range, a literal, case-sensitive id prefix) and its atomic
create, which refuses the id of a live instance."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.episode import new_instance, start_message
from devtools.devhost.store import InstanceExistsError, InstanceQuery, Store

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store holding a-1 (day 0), a_2 (day 1, Suspended), A-3 (day 2) and b%4 (day 3)."""
    opened = Store(tmp_path)
    for day, instance_id in enumerate(["a-1", "a_2", "A-3", "b%4"]):
        instance = new_instance(instance_id, "chaining", None, START + timedelta(days=day))
        opened.create(instance, start_message(instance, START))
    opened.set_status("a_2", Status.Suspended, "2026-01-02T00:00:00.000000Z")
    yield opened
    opened.close()


def _ids(store: Store, query: InstanceQuery) -> list[str]:
    return [instance.instance_id for instance in store.list_instances(query)]


def test_empty_query_lists_everything_oldest_first(store: Store) -> None:
    assert _ids(store, InstanceQuery()) == ["a-1", "a_2", "A-3", "b%4"]


def test_statuses_come_back_as_the_sdk_enum_and_filter(store: Store) -> None:
    assert _ids(store, InstanceQuery(statuses=frozenset({Status.Suspended}))) == ["a_2"]
    assert {i.status for i in store.list_instances(InstanceQuery())} == {Status.Pending, Status.Suspended}


def test_status_is_stored_as_its_wire_string(store: Store, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "durable.sqlite3") as db:
        assert db.execute("SELECT status FROM instances WHERE instance_id = 'a_2'").fetchone() == ("Suspended",)


def test_created_time_range_is_inclusive(store: Store) -> None:
    query = InstanceQuery(created_from=START + timedelta(days=1), created_to=START + timedelta(days=2))
    assert _ids(store, query) == ["a_2", "A-3"]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("a-", ["a-1"]), ("a_", ["a_2"]), ("A-", ["A-3"]), ("b%", ["b%4"]), ("%", []), ("_", [])],
)
def test_instance_id_prefix_is_literal_and_case_sensitive(store: Store, prefix: str, expected: list[str]) -> None:
    assert _ids(store, InstanceQuery(instance_id_prefix=prefix)) == expected


def _start(store: Store, instance_id: str, replace_live: bool = False) -> None:
    instance = new_instance(instance_id, "chaining", None, START)
    store.create(instance, start_message(instance, START), replace_live=replace_live)


@pytest.mark.parametrize("live", [Status.Pending, Status.Running, Status.Suspended])
def test_starting_the_id_of_a_live_instance_is_refused_and_keeps_it(store: Store, live: Status) -> None:
    store.set_status("a-1", live, "2026-01-05T00:00:00.000000Z")
    with pytest.raises(InstanceExistsError, match=f"status {live.value} already exists"):
        _start(store, "a-1")
    kept = store.get("a-1")
    assert kept is not None and kept.status == live and kept.last_updated_time == "2026-01-05T00:00:00.000000Z"


@pytest.mark.parametrize("finished", [Status.Completed, Status.Failed, Status.Terminated])
def test_starting_the_id_of_a_finished_instance_replaces_it(store: Store, finished: Status) -> None:
    store.set_status("a-1", finished, "2026-01-05T00:00:00.000000Z")
    _start(store, "a-1")
    replaced = store.get("a-1")
    assert replaced is not None and replaced.status == Status.Pending


def test_any_state_replaces_a_live_instance_too(store: Store) -> None:
    _start(store, "a-1", replace_live=True)
    assert [i.instance_id for i in store.list_instances(InstanceQuery())].count("a-1") == 1


def test_of_many_starts_of_one_id_at_the_same_instant_exactly_one_wins(store: Store) -> None:
    barrier = threading.Barrier(8)

    def start_one() -> bool:
        barrier.wait()
        try:
            _start(store, "racer")
        except InstanceExistsError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: start_one(), range(8)))
    assert outcomes.count(True) == 1
    winner = store.get("racer")
    assert winner is not None and len(store.pending("racer", winner.execution_id)) == 1  # one start event queued
