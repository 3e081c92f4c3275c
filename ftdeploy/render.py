"""Human-readable renderings of the API's answers: result summaries and tables (cells redacted by the caller)."""

from collections.abc import Callable, Iterable
from typing import Any

from rich.table import Table

from ftdeploy.progress import detail_of, step_line

APP_COLUMNS = ("name", "target", "endpoint", "version", "revision", "deployed_at", "deploying", "queued")
DEPLOYMENT_COLUMNS = ("request_id", "requested_at", "finished_at", "trigger", "version", "result", "superseded_by",
                      "reason")


def deploy_summary(output: dict[str, Any]) -> list[str]:
    """The lines a completed deploy prints: what serves where, and what had to be copied."""
    lines = [f"Deployed {output.get('app_name')}: adapter version {output.get('version')} serves at "
             f"{output.get('endpoint')} (revision {output.get('revision')})"]
    changes = output.get("changes")
    if isinstance(changes, dict):
        lines.append(f"Copied {len(changes.get('code_copied') or [])} code file(s), deleted "
                     f"{len(changes.get('code_deleted') or [])}, copied {changes.get('adapter_files_copied', 0)} "
                     "adapter file(s)")
    return lines


def provision_summary(output: dict[str, Any], written_to: str) -> list[str]:
    """The lines a completed provision prints."""
    return [f"Provisioned {output.get('ACA_APP_NAME')} at {output.get('ACA_APP_ENDPOINT')}",
            f"Wrote {written_to}"]


def status_summary(status: dict[str, Any]) -> list[str]:
    """`ftdeploy status ID`: what the orchestration is, where it stands, and its output or error."""
    lines = [f"{status.get('instanceId')} ({status.get('name')}): {status.get('runtimeStatus')}",
             f"  {step_line(status)}"]
    if detail := detail_of(status):
        lines.append(f"  {detail}")
    lines.append(f"  created {status.get('createdTime')}, last updated {status.get('lastUpdatedTime')}")
    output, error = status.get("output"), status.get("error")
    if error:
        lines.append(f"  error: {error}")
    elif isinstance(output, dict) and "endpoint" in output and "version" in output:
        lines.extend(f"  {line}" for line in deploy_summary(output))
    elif isinstance(output, dict) and "ACA_APP_ENDPOINT" in output:
        lines.append(f"  provisioned {output.get('ACA_APP_NAME')} at {output.get('ACA_APP_ENDPOINT')}")
    elif output is not None:
        lines.append(f"  output: {output}")
    return lines


def rows_of(body: Any, *names: str) -> list[dict[str, Any]]:
    """The list an answer holds: the body itself, or the list under one of `names` (e.g. {"apps": [...]})."""
    if isinstance(body, dict):
        body = next((body[name] for name in names if isinstance(body.get(name), list)), body)
    return [row for row in body if isinstance(row, dict)] if isinstance(body, list) else []


def trigger_text(trigger: Any) -> str:
    """A deploy's trigger in a few words: `user`, or `webhook (run <id>)`."""
    if not isinstance(trigger, dict):
        return "" if trigger is None else str(trigger)
    run = trigger.get("run_id")
    return f"{trigger.get('kind', '?')}" + (f" (run {run})" if run else "")


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A row with nested objects lifted up one level (`{"serving": {"version": ...}}` shows as `version`)."""
    lifted: dict[str, Any] = {}
    for value in row.values():
        if isinstance(value, dict):
            lifted.update({inner: item for inner, item in value.items() if not isinstance(item, dict | list)})
    return lifted | {key: value for key, value in row.items() if not isinstance(value, dict)}


def table(rows: Iterable[dict[str, Any]], preferred: tuple[str, ...], clean: Callable[[str], str]) -> Table:
    """A table of the preferred columns present in the rows (all scalar columns when none is)."""
    flattened = [flat(row | ({"trigger": trigger_text(row["trigger"])} if "trigger" in row else {})) for row in rows]
    present = {key for row in flattened for key in row}
    columns = [name for name in preferred if name in present] or sorted(
        key for key in present if all(not isinstance(row.get(key), list) for row in flattened))
    grid = Table()
    for name in columns:
        grid.add_column(name, overflow="fold")
    for row in flattened:
        grid.add_row(*(clean("" if row.get(name) is None else str(row.get(name))) for name in columns))
    return grid
