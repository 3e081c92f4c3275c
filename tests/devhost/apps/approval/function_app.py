"""Human interaction, monitor and long-running patterns, as the official Python v2 docs show them."""

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

APPROVAL_EVENT = "ApprovalEvent"


@app.route(route="approvals", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_approval(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start an approval workflow."""
    instance_id = await client.start_new("approval_workflow", None, req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.route(route="approvals/{instanceId}/approve", methods=["POST"])
@app.durable_client_input(client_name="client")
async def approve(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Send the approval event through the SDK client."""
    await client.raise_event(req.route_params["instanceId"], APPROVAL_EVENT, req.get_json())
    return func.HttpResponse(status_code=202)


@app.route(route="jobs/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_job(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start the monitor or the slow workflow, with a caller-chosen instance id."""
    body = req.get_json()
    instance_id = await client.start_new(req.route_params["name"], body.get("instance_id"), body)
    return client.create_check_status_response(req, instance_id)


@app.route(route="instances/{instanceId}", methods=["DELETE"])
@app.durable_client_input(client_name="client")
async def stop_and_purge(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Terminate (if running) and purge an instance through the SDK client."""
    instance_id = req.route_params["instanceId"]
    status = await client.get_status(instance_id)
    if status.runtime_status is None:
        return func.HttpResponse(status_code=404)
    if status.runtime_status.value in ("Running", "Pending"):
        await client.terminate(instance_id, "stopped by user")
    result = await client.purge_instance_history(instance_id)
    return func.HttpResponse(json.dumps({"deleted": result.instances_deleted}), mimetype="application/json")


@app.route(route="settings/{name:alpha}", methods=["GET"])
def read_setting(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    """Report an app setting and the invocation context, to show how settings reach the app."""
    body = {"value": os.environ.get(f"APPROVAL_{req.route_params['name'].upper()}"),
            "function": context.function_name, "cwd": os.getcwd()}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.orchestration_trigger(context_name="context")
def approval_workflow(context: df.DurableOrchestrationContext):
    """Wait for an approval event, or escalate when the deadline passes first."""
    request = context.get_input()
    yield context.call_activity("send_approval_request", request)
    context.set_custom_status("waiting for approval")
    deadline = context.current_utc_datetime + timedelta(seconds=request["timeout_seconds"])
    timeout_task = context.create_timer(deadline)
    approval_task = context.wait_for_external_event(APPROVAL_EVENT)
    winner = yield context.task_any([approval_task, timeout_task])
    if winner == approval_task:
        timeout_task.cancel()
        context.set_custom_status("approved")
        return (yield context.call_activity("record_decision", approval_task.result))
    context.set_custom_status("escalated")
    return (yield context.call_activity("record_decision", {"approved": False, "by": "timeout"}))


@app.orchestration_trigger(context_name="context")
def monitor(context: df.DurableOrchestrationContext):
    """Monitor: poll a job on a durable timer until it is done or the monitor expires."""
    job = context.get_input()
    expiry = context.current_utc_datetime + timedelta(seconds=job["expiry_seconds"])
    polls = 0
    while context.current_utc_datetime < expiry:
        polls += 1
        state = yield context.call_activity("check_job", job)
        context.set_custom_status({"polls": polls, "state": state})
        if state == "done":
            return {"state": state, "polls": polls}
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=job["interval_seconds"]))
    return {"state": "expired", "polls": polls}


@app.orchestration_trigger(context_name="context")
def slow_workflow(context: df.DurableOrchestrationContext):
    """A slow activity, then a durable timer, then a last activity: room to crash in between."""
    job = context.get_input()
    first = yield context.call_activity("slow_step", job)
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=job["timer_seconds"]))
    context.set_custom_status("timer fired")
    last = yield context.call_activity("record_decision", {"approved": True, "by": first})
    return last


@app.activity_trigger(input_name="request")
def send_approval_request(request: dict) -> str:
    """Pretend to notify an approver."""
    return f"sent to {request.get('approver', 'nobody')}"


@app.activity_trigger(input_name="decision")
def record_decision(decision: dict) -> str:
    """Summarise the decision."""
    return f"{'approved' if decision.get('approved') else 'rejected'} by {decision.get('by')}"


@app.activity_trigger(input_name="job")
def check_job(job: dict) -> str:
    """Count calls in a file; the job is done after `done_after` checks."""
    marker = Path(job["counter_file"])
    calls = int(marker.read_text()) + 1 if marker.exists() else 1
    marker.write_text(str(calls))
    return "done" if calls >= job["done_after"] else "running"


def wait_for_file(path: Path, timeout: float) -> bool:
    """Wait until `path` exists (a test creates it to release the waiter); False at the deadline."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


@app.activity_trigger(input_name="job")
async def slow_step(job: dict) -> str:
    """An async activity that records each start in a file, then waits until the test releases it (if asked to)."""
    with Path(job["attempts_file"]).open("a") as attempts:
        attempts.write("started\n")
    if job.get("release_file"):
        wait_for_file(Path(job["release_file"]), timeout=300)
    return "slow step"


@app.route(route="blocking/thread", methods=["POST"])
def block_in_a_thread(req: func.HttpRequest) -> func.HttpResponse:
    """A synchronous function (run in a worker thread) that marks its start, then does not return for minutes."""
    job = req.get_json()
    Path(job["started_file"]).write_text("started")
    wait_for_file(Path(job["release_file"]), timeout=600)
    return func.HttpResponse("released")


@app.route(route="blocking/loop", methods=["POST"])
async def block_the_event_loop(req: func.HttpRequest) -> func.HttpResponse:
    """An async function that blocks the host's event loop itself: marks its start, then does not return for minutes."""
    job = req.get_json()
    Path(job["started_file"]).write_text("started")
    wait_for_file(Path(job["release_file"]), timeout=600)
    return func.HttpResponse("released")
