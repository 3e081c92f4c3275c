"""GET/POST /api/apps and GET /api/apps/{app}/deployments: the registered apps and every deploy request of one.

The registry and the history are the task hub's own instance store: an app's registration is the output of its
`app_<app>` instance, and its history is the instances whose id starts with `deploy_<app>_` (one per request:
the deploy, or the `deploy_superseded` marker of a request that never ran) plus the requests its deployer holds.
"""

import asyncio
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from http_api.deploy import azure_place, registered_app
from http_api.deploy_queue import deployer_instance_id, deployer_status, request_prefix
from http_api.responses import BadRequest, error_response, json_response, parse_body, refused
from http_api.status import iso_time
from orchestrations import app_registry
from payloads.apps import AppConfig, DeployerStatus, RegisterAppRequest
from payloads.redeploy import history_fields
from payloads.requests import APP_NAME_PATTERN, quoted
from service_settings import get_settings
from share_layout import paths
from targets import get_target

bp = df.Blueprint()
Status = df.OrchestrationRuntimeStatus
FINISHED = frozenset({Status.Completed, Status.Failed, Status.Terminated, Status.Canceled})
REGISTER_WAIT_S = 10.0
STATUS_FETCHES = 8
"""Instance statuses (with inputs) read at once when listing a history."""


def iso_text(value: Any) -> str | None:
    """A time written by pydantic (or anyone) in ISO 8601, rewritten the way the Durable HTTP API writes times."""
    if not isinstance(value, str):
        return None
    try:
        return iso_time(datetime.fromisoformat(value))
    except ValueError:
        return None


def read_current_record(config: AppConfig) -> dict[str, Any] | None:
    """serving/apps/<app>/current.json on the app's share, or None when missing or unreadable."""
    try:
        share = get_target(config.target, get_settings(), azure_place(config)).share
        return dict(json.loads(share.read_bytes(paths.current_record(config.app_name))))
    except (OSError, ValueError, TypeError):
        return None


async def _app_summary(client: df.DurableOrchestrationClient, config: AppConfig) -> dict[str, Any]:
    current = await deployer_status(client, config.app_name)
    serving: dict[str, Any] | None = None
    if current is not None and current.serving is not None:
        serving = {"version": current.serving.version, "revision": current.serving.revision,
                   "deployed_at": iso_time(current.serving.deployed_at), "request_id": current.serving.request_id}
    else:
        record = await asyncio.to_thread(read_current_record, config)
        if record is not None:
            serving = {key: record.get(key) for key in ("version", "revision", "deployed_at")} | {"request_id": None}
    return {
        "name": config.app_name, "target": config.target, "endpoint": config.ACA_APP_ENDPOINT,
        "source": config.source, "registered_at": iso_time(config.registered_at), "serving": serving,
        "deploying": current.running.request_id if current is not None and current.running else None,
        "queued": len(current.queued) if current is not None else 0,
        "deployments_url": f"/api/apps/{config.app_name}/deployments",
    }


@bp.route(route="apps", methods=["GET"])
@bp.durable_client_input(client_name="client")
async def list_apps(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Every registered app: name, target, endpoint, what serves now, whether a deploy runs."""
    found = await client.get_status_by(instance_id_prefix=app_registry.INSTANCE_PREFIX,
                                       runtime_status=[Status.Completed])
    configs: list[AppConfig] = []
    for status in found:
        try:
            configs.append(AppConfig.model_validate(status.output))
        except ValueError:
            continue
    summaries = await asyncio.gather(*(_app_summary(client, config) for config in configs))
    return json_response({"apps": sorted(summaries, key=lambda item: str(item["name"]))})


@bp.route(route="apps", methods=["POST"])
@bp.durable_client_input(client_name="client")
async def post_app(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Register an app provisioned by hand (its inference.config.json plus the target); 200 once stored."""
    try:
        request = parse_body(req, RegisterAppRequest)
    except BadRequest as error:
        return refused(error)
    name = request.name()
    if not re.match(APP_NAME_PATTERN, name):
        problem = {"field": "app_name", "message": f"ACA_APP_NAME {quoted(name)} is not an app name here "
                                                   f"(lowercase letters, digits, '-', 3-32 characters): send app_name"}
        return refused(BadRequest.naming("invalid request body", [problem]))
    fields = request.model_dump(exclude={"target", "app_name"})
    config = AppConfig(app_name=name, target=request.target, registered_at=datetime.now(UTC), source="manual",
                       **fields)
    instance_id = app_registry.registry_instance_id(name)
    try:
        await client.start_new(app_registry.NAME, instance_id=instance_id, client_input=config.model_dump(mode="json"))
    except Exception:  # refused: a registration of this app is being stored right now
        return error_response(409, f"app {name!r} is being registered right now; send the request again",
                              instanceId=instance_id)
    deadline = time.monotonic() + REGISTER_WAIT_S
    while time.monotonic() < deadline:
        stored = await registered_app(client, name)
        if stored is not None and stored.registered_at == config.registered_at:
            return json_response({"app": stored.model_dump(mode="json"), "instanceId": instance_id})
        await asyncio.sleep(0.05)
    return json_response({"app": config.model_dump(mode="json"), "instanceId": instance_id,
                          "statusUrl": f"/api/status/{instance_id}"}, status_code=202)


def _result(status: Any) -> dict[str, Any]:
    runtime = status.runtime_status
    output = status.output
    if runtime == Status.Completed and isinstance(output, dict) and output.get("result") == "superseded":
        return {"result": "superseded", "superseded_by": output.get("superseded_by")}
    if runtime == Status.Completed:
        return {"result": "succeeded"}
    if runtime == Status.Failed:
        return {"result": "failed", "reason": output if isinstance(output, str) else "the deploy failed"}
    if runtime in (Status.Terminated, Status.Canceled):
        return {"result": "terminated", "reason": output if isinstance(output, str) else None}
    return {"result": "running", "step": (status.custom_status or {}).get("step")
            if isinstance(status.custom_status, dict) else None}


def deployment_entry(status: Any) -> dict[str, Any]:
    """One history row from a request's instance (a deploy or a superseded marker), input included."""
    raw = status.input_ if isinstance(status.input_, dict) else {}
    nested = raw.get("job")
    job: dict[str, Any] = nested if isinstance(nested, dict) else raw
    output = status.output if isinstance(status.output, dict) else {}
    superseded = output.get("result") == "superseded"
    finished = status.runtime_status in FINISHED
    return {
        "request_id": status.instance_id,
        "requested_at": iso_text(raw.get("requested_at")) or iso_time(status.created_time),
        "started_at": None if superseded else iso_time(status.created_time),
        "finished_at": iso_time(status.last_updated_time) if finished else None,
        "trigger": raw.get("trigger") or {"kind": "user"},
        "version": output.get("version") or job.get("version"),
        "base_model": job.get("base_model"),
        "adapter_source": job.get("adapter_source"),
        **history_fields(status.custom_status),
        **_result(status),
    }


def queued_entries(current: DeployerStatus | None) -> list[dict[str, Any]]:
    """History rows for the requests the deployer holds (no instance yet)."""
    if current is None:
        return []
    behind = current.running.request_id if current.running else None
    return [{"request_id": item.request_id, "requested_at": iso_time(item.requested_at), "started_at": None,
             "finished_at": None, "trigger": item.trigger.model_dump(mode="json"), "version": item.version,
             "base_model": None, "adapter_source": None, "result": "queued", "queued_behind": behind}
            for item in current.queued]


@bp.route(route="apps/{app}/deployments", methods=["GET"])
@bp.durable_client_input(client_name="client")
async def list_deployments(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Every deploy request of the app, newest first: times, trigger, version, base model, result."""
    app_name = req.route_params.get("app", "")
    if not re.match(APP_NAME_PATTERN, app_name):
        return error_response(404, f"no app named {quoted(app_name)} (app names: lowercase letters, digits, '-')")
    found = await client.get_status_by(instance_id_prefix=request_prefix(app_name))
    limit = asyncio.Semaphore(STATUS_FETCHES)

    async def with_input(instance_id: str) -> Any:
        async with limit:
            return await client.get_status(instance_id, show_input=True)

    statuses = await asyncio.gather(*(with_input(status.instance_id) for status in found))
    rows = [deployment_entry(status) for status in statuses if status and status.runtime_status is not None]
    known = {row["request_id"] for row in rows}
    current = await deployer_status(client, app_name)
    rows += [row for row in queued_entries(current) if row["request_id"] not in known]
    if not rows and await registered_app(client, app_name) is None and current is None:
        return error_response(404, f"app {app_name!r} is not registered and has no deploys")
    rows.sort(key=lambda row: (str(row["requested_at"]), row["request_id"]), reverse=True)
    return json_response({"app": app_name, "deployer": deployer_instance_id(app_name), "deployments": rows})
