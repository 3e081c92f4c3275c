"""Custom status that tells pollers which step runs, how far along, and what it is waiting for."""

from typing import Any

import azure.durable_functions as df


class Progress:
    """Publishes {step, step_number, total_steps, message, detail} as the orchestration's custom status."""

    def __init__(self, context: df.DurableOrchestrationContext, steps: tuple[str, ...]) -> None:
        self.context = context
        self.steps = steps
        self.current = steps[0]
        self.message = ""

    def start(self, step: str, message: str) -> None:
        """Mark `step` as running."""
        self.current, self.message = step, message
        self.publish(detail=None)

    def publish(self, detail: str | None) -> None:
        """Publish the current step with an optional detail line."""
        status: dict[str, Any] = {
            "step": self.current,
            "step_number": self.steps.index(self.current) + 1,
            "total_steps": len(self.steps),
            "message": self.message,
        }
        if detail:
            status["detail"] = detail
        self.context.set_custom_status(status)

    def finish(self, message: str) -> None:
        """Mark the workflow as done."""
        self.context.set_custom_status(
            {"step": "done", "step_number": len(self.steps), "total_steps": len(self.steps), "message": message}
        )
