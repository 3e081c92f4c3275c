"""A minimal func.Context for functions that declare a `context` parameter, and the per-invocation log line."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import azure.functions as func

log = logging.getLogger("devhost")


def log_executed(function_name: str, succeeded: bool, invocation_id: str, started: float) -> None:
    """Log one invocation the way the Functions host does: name, Succeeded/Failed, id, duration since `started`."""
    outcome = "Succeeded" if succeeded else "Failed"
    log.info("Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)", function_name, outcome, invocation_id,
             (time.monotonic() - started) * 1000)


class InvocationContext(func.Context):
    """Invocation id, function name and directory, as the Python worker provides them."""

    def __init__(self, invocation_id: str, function_name: str, function_directory: str) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._tls = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None

    @property
    def thread_local_storage(self) -> Any:
        return self._tls
