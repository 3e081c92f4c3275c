"""The store's instance queries: statuses, created-time range and a literal, case-sensitive id prefix."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.episode import new_instance, start_message
from devtools.devhost.store import InstanceQuery, Store

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
