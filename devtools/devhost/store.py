"""SQLite persistence of instances, their history and their inbox of undelivered events."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

from azure.durable_functions.models import OrchestrationRuntimeStatus as Status

from devtools.devhost.history import Event, format_time
from devtools.devhost.records import CURRENT_EXECUTION, TERMINAL_STATUSES, Commit, Instance, InstanceQuery, Message

REPLACEABLE_STATUSES = TERMINAL_STATUSES | {Status.Canceled}
"""The extension's NonRunningStates: an instance id holding one of these may be started again."""

__all__ = ["Commit", "Instance", "InstanceExistsError", "InstanceQuery", "Message", "Store"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY, name TEXT NOT NULL, execution_id TEXT NOT NULL,
    status TEXT NOT NULL, input TEXT, output TEXT, custom_status TEXT,
    created_time TEXT NOT NULL, last_updated_time TEXT NOT NULL,
    parent_instance_id TEXT, parent_execution_id TEXT, parent_task_id INTEGER,
    next_seq INTEGER NOT NULL DEFAULT 0, actions_seen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL, position INTEGER NOT NULL, event TEXT NOT NULL,
    PRIMARY KEY (instance_id, position));
CREATE TABLE IF NOT EXISTS inbox (
    msg_id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL, event TEXT NOT NULL);
"""
COLUMN_NAMES = tuple(f.name for f in fields(Instance))
COLUMNS = ", ".join(COLUMN_NAMES)


class InstanceExistsError(Exception):
    """Starting an instance id that a live (not yet finished) instance holds, where that is refused."""

    def __init__(self, instance_id: str, status: Status) -> None:
        super().__init__(f"An Orchestration instance with the status {status.value} already exists.")
        self.instance_id = instance_id
        self.status = status


class Store:
    """Thread-safe access to the state database (WAL mode, one connection behind a lock)."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(state_dir / "durable.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def get(self, instance_id: str) -> Instance | None:
        """Load one instance, or None if unknown."""
        rows = self._query(f"SELECT {COLUMNS} FROM instances WHERE instance_id = ?", (instance_id,))
        return _from_row(rows[0]) if rows else None

    def list_instances(self, query: InstanceQuery) -> list[Instance]:
        """Instances matching the query, oldest first."""
        where, args = _where(query)
        sql = f"SELECT {COLUMNS} FROM instances {where} ORDER BY created_time, instance_id"
        return [_from_row(row) for row in self._query(sql, args)]

    def history(self, instance_id: str) -> list[Event]:
        """The instance's history events, in order."""
        rows = self._query("SELECT event FROM history WHERE instance_id = ? ORDER BY position", (instance_id,))
        return [json.loads(row[0]) for row in rows]

    def pending(self, instance_id: str, execution_id: str) -> list[Event]:
        """Events in the inbox of this execution of the instance, not yet delivered."""
        sql = "SELECT event FROM inbox WHERE instance_id = ? AND execution_id = ? ORDER BY msg_id"
        rows = self._query(sql, (instance_id, execution_id))
        return [json.loads(row[0]) for row in rows]

    def next_message(self) -> Message | None:
        """The oldest deliverable message, if any.

        Not deliverable: messages of a suspended instance, and a message for the current execution while that
        execution has not started (after a continue_as_new its history is empty until its ExecutionStarted is
        delivered; the event waits for it).
        """
        rows = self._query(
            "SELECT m.msg_id, m.instance_id, m.execution_id, m.event FROM inbox m LEFT JOIN instances i "
            "ON i.instance_id = m.instance_id WHERE (i.status IS NULL OR i.status != ?) AND NOT ("
            "m.execution_id = ? AND NOT EXISTS (SELECT 1 FROM history h WHERE h.instance_id = m.instance_id)) "
            "ORDER BY m.msg_id LIMIT 1",
            (Status.Suspended.value, CURRENT_EXECUTION),
        )
        if not rows:
            return None
        msg_id, instance_id, execution_id, text = rows[0]
        return Message(instance_id, execution_id, json.loads(text), msg_id)

    def drop_message(self, msg_id: int) -> None:
        """Remove a message that cannot be delivered."""
        with self._transaction() as db:
            db.execute("DELETE FROM inbox WHERE msg_id = ?", (msg_id,))

    def enqueue(self, message: Message) -> bool:
        """Queue an event for a live instance; False if the instance or execution is gone.

        A message for CURRENT_EXECUTION needs only the instance to be live.
        """
        with self._transaction() as db:
            row = db.execute(
                "SELECT status FROM instances WHERE instance_id = ? AND (execution_id = ? OR ? = ?)",
                (message.instance_id, message.execution_id, message.execution_id, CURRENT_EXECUTION),
            ).fetchone()
            if row is None or Status(row[0]) in TERMINAL_STATUSES:
                return False
            _insert_message(db, message)
            return True

    def create(self, instance: Instance, start: Message, replace_live: bool = False) -> None:
        """Create an instance and queue its start event, in one transaction with the check of what the id holds.

        A finished instance with the same id is replaced; a live one (pending, running, suspended) only when
        `replace_live`, else InstanceExistsError: of two starts of one id at the same instant, exactly one wins.
        """
        with self._transaction() as db:
            row = db.execute("SELECT status FROM instances WHERE instance_id = ?", (instance.instance_id,)).fetchone()
            if row is not None and not replace_live and Status(row[0]) not in REPLACEABLE_STATUSES:
                raise InstanceExistsError(instance.instance_id, Status(row[0]))
            _delete_instance(db, instance.instance_id)
            _upsert_instance(db, instance)
            _insert_message(db, start)

    def apply(self, commit: Commit) -> None:
        """Write one episode's results atomically."""
        with self._transaction() as db:
            instance_id = commit.instance.instance_id
            if commit.consumed_msg_id is not None:
                db.execute("DELETE FROM inbox WHERE msg_id = ?", (commit.consumed_msg_id,))
            if commit.replace_history:
                db.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))
            _append_history(db, instance_id, commit.history)
            _upsert_instance(db, commit.instance)
            for child in commit.new_instances:
                _delete_instance(db, child.instance_id)
                _upsert_instance(db, child)
            for message in commit.messages:
                _insert_message(db, message)

    def terminate(self, instance: Instance, final_event: Event) -> None:
        """Mark an instance terminated, drop its inbox and record why."""
        with self._transaction() as db:
            db.execute("DELETE FROM inbox WHERE instance_id = ?", (instance.instance_id,))
            _append_history(db, instance.instance_id, [final_event])
            _upsert_instance(db, instance)

    def set_status(self, instance_id: str, status: Status, updated: str) -> None:
        """Change a live instance's runtime status (suspend and resume)."""
        with self._transaction() as db:
            db.execute("UPDATE instances SET status = ?, last_updated_time = ? WHERE instance_id = ?",
                       (status.value, updated, instance_id))

    def purge(self, instance_id: str) -> bool:
        """Delete an instance with its history and inbox; False if it did not exist."""
        with self._transaction() as db:
            return _delete_instance(db, instance_id)


def _from_row(row: tuple[Any, ...]) -> Instance:
    values = dict(zip(COLUMN_NAMES, row, strict=True))
    return Instance(**{**values, "status": Status(values["status"])})


def _to_row(instance: Instance) -> tuple[Any, ...]:
    values = {**vars(instance), "status": instance.status.value}
    return tuple(values[name] for name in COLUMN_NAMES)


def _where(query: InstanceQuery) -> tuple[str, tuple[Any, ...]]:
    """A parameterised WHERE clause; the prefix is compared with substr, since LIKE has wildcards and ignores case."""
    statuses = sorted(status.value for status in query.statuses)
    prefix = query.instance_id_prefix
    candidates: list[tuple[str, list[Any]]] = [
        (f"status IN ({', '.join('?' * len(statuses))})", list(statuses)),
        ("created_time >= ?", [format_time(query.created_from)] if query.created_from else []),
        ("created_time <= ?", [format_time(query.created_to)] if query.created_to else []),
        ("substr(instance_id, 1, ?) = ?", [len(prefix), prefix] if prefix else []),
    ]
    used = [(sql, args) for sql, args in candidates if args]
    where = "WHERE " + " AND ".join(sql for sql, _ in used) if used else ""
    return where, tuple(arg for _, args in used for arg in args)


def _insert_message(db: sqlite3.Connection, message: Message) -> None:
    db.execute(
        "INSERT INTO inbox (instance_id, execution_id, event) VALUES (?, ?, ?)",
        (message.instance_id, message.execution_id, json.dumps(message.event)),
    )


def _upsert_instance(db: sqlite3.Connection, instance: Instance) -> None:
    values = _to_row(instance)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT OR REPLACE INTO instances ({COLUMNS}) VALUES ({marks})", values)


def _append_history(db: sqlite3.Connection, instance_id: str, events: list[Event]) -> None:
    row = db.execute("SELECT COALESCE(MAX(position), -1) FROM history WHERE instance_id = ?", (instance_id,))
    start = int(row.fetchone()[0]) + 1
    db.executemany(
        "INSERT INTO history (instance_id, position, event) VALUES (?, ?, ?)",
        [(instance_id, start + i, json.dumps(e)) for i, e in enumerate(events)],
    )


def _delete_instance(db: sqlite3.Connection, instance_id: str) -> bool:
    deleted = db.execute("DELETE FROM instances WHERE instance_id = ?", (instance_id,)).rowcount
    db.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))
    db.execute("DELETE FROM inbox WHERE instance_id = ?", (instance_id,))
    return deleted > 0
