"""Custom status that tells pollers which step runs, since when, how far along, and what it is waiting for.

Shape: {step, step_number, total_steps (null while later steps depend on one not run yet), message,
step_started_at, [detail], [what a step reports while it runs, e.g. elapsed_s and deadline], [results: what
finished steps reported, e.g. files and bytes synced]}. Times are the orchestration's own clock (replay-safe),
ISO 8601 UTC.
"""

from typing import Any

import azure.durable_functions as df
from azure.durable_functions.constants import DATETIME_STRING_FORMAT


class Progress:
    """Publishes where the workflow stands as the orchestration's custom status."""

    def __init__(self, context: df.DurableOrchestrationContext, steps: tuple[str, ...], planned: bool = True) -> None:
        """`steps` so far; `planned` False while the steps after them are not known yet (total_steps is null)."""
        self.context = context
        self.steps, self.planned = steps, planned
        self.current = steps[0]
        self.message = ""
        self.started_at = self.now()
        self.results: dict[str, dict[str, Any]] = {}

    def now(self) -> str:
        """The orchestration's current time as the Durable HTTP API writes times."""
        return self.context.current_utc_datetime.strftime(DATETIME_STRING_FORMAT)

    def plan(self, steps: tuple[str, ...]) -> None:
        """The whole list of steps, once known (it begins with the steps run so far)."""
        self.steps, self.planned = steps, True

    def start(self, step: str, message: str) -> None:
        """Mark `step` as running."""
        self.current, self.message, self.started_at = step, message, self.now()
        self.publish(detail=None)

    def record(self, step: str, **result: Any) -> None:
        """Keep what a finished step reported (counts, sizes, the version it chose) in every later status."""
        self.results[step] = result

    def publish(self, detail: str | None = None, **extra: Any) -> None:
        """Publish the current step with an optional detail line and whatever else the step reports now."""
        status: dict[str, Any] = {
            "step": self.current,
            "step_number": self.steps.index(self.current) + 1,
            "total_steps": len(self.steps) if self.planned else None,
            "message": self.message,
            "step_started_at": self.started_at,
        }
        if detail:
            status["detail"] = detail
        status.update(extra)
        if self.results:
            status["results"] = self.results
        self.context.set_custom_status(status)

    def finish(self, message: str) -> None:
        """Mark the workflow as done."""
        status: dict[str, Any] = {"step": "done", "step_number": len(self.steps), "total_steps": len(self.steps),
                                  "message": message, "finished_at": self.now()}
        if self.results:
            status["results"] = self.results
        self.context.set_custom_status(status)
