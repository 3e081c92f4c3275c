"""Seeded fault injection for the simulators: throttling, busy servers, dropped connections, lost and slow replies.

`drop` closes the connection before the request takes effect; `lost` applies the request, then closes the connection
without a reply, so the client's retry meets the state its first attempt left (a non-idempotent step shows).
"""

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["throttle", "busy", "drop", "lost", "slow"]

FAULT_STATUS: dict[FaultKind, tuple[int, str]] = {
    "throttle": (429, "TooManyRequests"),
    "busy": (503, "ServerBusy"),
}
"""Status and error code a simulator answers for each fault kind that is a reply (Azure Storage throttles with 503)."""


@dataclass(frozen=True)
class Fault:
    """One injected fault: an error reply, a connection closed without a reply, or a delay before a normal reply."""

    kind: FaultKind
    delay_s: float = 0.0


class FaultPlan:
    """Draws a fault for a share `rate` of requests (seeded, so a run is reproducible), up to `limit` faults.

    `when(method, query)` narrows the requests that may fail (e.g. only renames); by default any request may.
    """

    def __init__(
        self,
        rate: float,
        kinds: tuple[FaultKind, ...] = ("busy", "drop", "slow"),
        seed: int = 0,
        limit: int | None = None,
        slow_s: tuple[float, float] = (0.05, 0.25),
        retry_after_s: int = 1,
        when: Callable[[str, dict[str, str]], bool] | None = None,
    ) -> None:
        self.rate = rate
        self.kinds = kinds
        self.limit = limit
        self.slow_s = slow_s
        self.retry_after_s = retry_after_s
        self.when = when
        self.injected: list[FaultKind] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, method: str, query: dict[str, str]) -> Fault | None:
        """The fault for this request, if any."""
        if self.when is not None and not self.when(method, query):
            return None
        with self._lock:
            if self.limit is not None and len(self.injected) >= self.limit:
                return None
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self.injected.append(kind)
            return Fault(kind, self._random.uniform(*self.slow_s) if kind == "slow" else 0.0)
