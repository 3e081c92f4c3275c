"""Following an orchestration to its end: poll its status, show progress, follow a superseding request.

A deploy that a newer request for the same app superseded ends with `superseded_by` in its output; the client says
so and follows that request instead, so the exit status is the newer deploy's. Ctrl-C stops the waiting only: the
orchestration goes on in the service, and `ftdeploy status ID --wait` picks it up again.
"""

import time
from collections.abc import Callable
from typing import Any

from ftdeploy.client import ServiceClient
from ftdeploy.errors import CliError, Exit
from ftdeploy.output import Output
from ftdeploy.progress import Display, display_for

TERMINAL = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
POLL_SECONDS = 0.5
LOST_CONTACT_S = 60.0
"""How long the service may stay unreachable (a host restarting) while waiting before the client gives up."""
MAX_FOLLOWED = 20


def superseded_by(status: dict[str, Any]) -> str | None:
    """The request that replaced this one, when its output says it was superseded."""
    output = status.get("output")
    successor = output.get("superseded_by") if isinstance(output, dict) else None
    return str(successor) if successor else None


def poll_until_done(client: ServiceClient, instance_id: str, display: Display,
                    sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll /api/status/<id> until it is terminal; a 5xx or lost connection is retried for LOST_CONTACT_S."""
    lost_since: float | None = None
    while True:
        try:
            status = dict(client.get(f"status/{instance_id}").body or {})
            lost_since = None
        except CliError as error:
            transient = error.code in (Exit.UNREACHABLE, Exit.SERVER_ERROR)
            if not transient:
                raise
            lost_since = lost_since or time.monotonic()
            if time.monotonic() - lost_since > LOST_CONTACT_S:
                raise CliError(f"{error.message}; gave up waiting after {LOST_CONTACT_S:.0f} s without an answer. "
                               f"{instance_id} may still be running: `ftdeploy status {instance_id} --wait`",
                               error.code) from None
            sleep(POLL_SECONDS)
            continue
        display.show(instance_id, status)
        if status.get("runtimeStatus") in TERMINAL:
            return status
        sleep(POLL_SECONDS)


def follow(client: ServiceClient, output: Output, instance_id: str) -> dict[str, Any]:
    """The final status of `instance_id`, or of the request that superseded it (followed, and said so)."""
    try:
        for _ in range(MAX_FOLLOWED):
            with display_for(output) as display:
                final = poll_until_done(client, instance_id, display)
            successor = superseded_by(final)
            if successor is None:
                return final
            output.note(f"{instance_id} was superseded by {successor} (a newer request for the same app); "
                        f"following {successor}")
            instance_id = successor
    except KeyboardInterrupt:
        raise CliError(f"stopped waiting (Ctrl-C); {instance_id} was not cancelled and goes on in the service: "
                       f"`ftdeploy status {instance_id} --wait` follows it again", Exit.INTERRUPTED) from None
    raise CliError(f"followed {MAX_FOLLOWED} superseding requests; see `ftdeploy status {instance_id}`", Exit.FAILED)


def error_text(status: dict[str, Any]) -> str:
    """What a failed or terminated orchestration says about why."""
    problem = status.get("error") or status.get("output")
    if isinstance(problem, dict):
        problem = problem.get("message") or problem
    return str(problem) if problem else "no reason given"


def completed_output(status: dict[str, Any], what: str) -> Any:
    """The output of a Completed orchestration; a CliError (exit 1) saying why for any other end."""
    runtime = status.get("runtimeStatus")
    instance_id = status.get("instanceId", "?")
    if runtime == "Completed":
        return status.get("output")
    verb = "failed" if runtime == "Failed" else f"ended {runtime}"
    raise CliError(f"{what} {instance_id} {verb}: {error_text(status)}", Exit.FAILED)


def started_id(answer_body: Any, route: str) -> str:
    """The instance id in a 202 check-status answer."""
    if isinstance(answer_body, dict) and answer_body.get("id"):
        return str(answer_body["id"])
    raise CliError(f"POST /api/{route} answered without an instance id", Exit.SERVER_ERROR)

