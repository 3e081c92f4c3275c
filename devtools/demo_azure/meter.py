"""What each step of the demo asked of the simulated Azure: Files and ARM/Container Apps requests, bytes, time."""

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.simulators.simulated_azure import SimulatedArm, Traffic


@dataclass(frozen=True)
class StepTraffic:
    """One measured step."""

    name: str
    seconds: float
    files: Counter[str]
    bytes_uploaded: int
    arm: Counter[str]


@dataclass
class Meter:
    """Marks the simulators' request logs around each step."""

    simulated: SimulatedArm
    steps: list[StepTraffic] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Measure the requests answered and the time spent inside the block (recorded when it succeeds)."""
        files_log = self.simulated.container_apps.azure.files
        files_mark, arm_mark, began = len(files_log.log), len(self.simulated.log), time.monotonic()
        yield
        traffic = Traffic(files_log.log[files_mark:])
        self.steps.append(StepTraffic(name, time.monotonic() - began, traffic.operations, traffic.bytes_uploaded,
                                      self.simulated.operations_since(arm_mark)))
