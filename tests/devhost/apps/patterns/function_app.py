"""Durable Functions patterns written the way the official Python v2 docs show them."""

import json
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func
from greetings import bp as greetings_bp
from greetings import say_hello

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(greetings_bp)

FLAKY_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=100, max_number_of_attempts=3)


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start an orchestrator of this sample app by name and return the check-status response."""
    payload = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["functionName"], None, payload)
    return client.create_check_status_response(req, instance_id)


@app.route(route="status/{instanceId}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def get_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Report an instance's status through the SDK client (404 if unknown)."""
    status = await client.get_status(req.route_params["instanceId"])
    if status.runtime_status is None:
        return func.HttpResponse(json.dumps({"error": "unknown instance"}), status_code=404)
    body = {"runtimeStatus": status.runtime_status.value, "output": status.output,
            "customStatus": status.custom_status}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> func.HttpResponse:
    """A synchronous, anonymous function."""
    return func.HttpResponse(f"pong {req.params.get('name', '')}".strip())


@app.orchestration_trigger(context_name="context")
def chaining(context: df.DurableOrchestrationContext):
    """Function chaining: three activities in sequence, each called by reference."""
    first = yield context.call_activity(say_hello, "Tokyo")
    second = yield context.call_activity(say_hello, "Seattle")
    third = yield context.call_activity(say_hello, "London")
    return [first, second, third]


@app.orchestration_trigger(context_name="context")
def fan_out_fan_in(context: df.DurableOrchestrationContext):
    """Fan-out/fan-in: one activity per work item in parallel, then the sum of the results."""
    count = context.get_input() or 5
    context.set_custom_status({"step": "fan-out", "items": count})
    results = yield context.task_all([context.call_activity(square, n) for n in range(1, count + 1)])
    context.set_custom_status({"step": "done", "items": count})
    return sum(results)


@app.orchestration_trigger(context_name="context")
def sub_orchestrations(context: df.DurableOrchestrationContext):
    """Sub-orchestrations: run the chaining and fan-out workflows as children."""
    greetings = yield context.call_sub_orchestrator("chaining")
    total = yield context.call_sub_orchestrator("fan_out_fan_in", 3)
    return {"greetings": greetings, "total": total}


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    """Eternal-orchestration style: continue_as_new until the counter reaches the limit."""
    state = context.get_input()
    state["squares"].append((yield context.call_activity(square, state["n"])))
    if state["n"] < state["limit"]:
        context.continue_as_new({**state, "n": state["n"] + 1})
        return None
    return state["squares"]


@app.orchestration_trigger(context_name="context")
def with_retry(context: df.DurableOrchestrationContext):
    """call_activity_with_retry: a flaky activity that fails a given number of times first."""
    result = yield context.call_activity_with_retry(flaky, FLAKY_RETRY, context.get_input())
    return result


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):
    """An activity failure the orchestrator does not catch: the instance fails."""
    yield context.call_activity(boom, "disk is full")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def catching(context: df.DurableOrchestrationContext):
    """An activity failure the orchestrator catches and reports."""
    try:
        yield context.call_activity(boom, "quota exceeded")
    except Exception as error:
        return f"caught: {error}"
    return "no error"


@app.orchestration_trigger(context_name="context")
def sub_failing(context: df.DurableOrchestrationContext):
    """A failing sub-orchestration surfaces in the parent as an exception it can catch."""
    try:
        yield context.call_sub_orchestrator("failing", instance_id=f"{context.instance_id}-child")
    except Exception as error:
        return f"child failed: {error}"
    return "child succeeded"


@app.activity_trigger(input_name="n")
def square(n: int) -> int:
    """Square a number."""
    return n * n


@app.activity_trigger(input_name="message")
def boom(message: str) -> str:
    """Always fail with the given message."""
    raise ValueError(message)


@app.activity_trigger(input_name="job")
def flaky(job: dict) -> str:
    """Fail the first `fail_times` calls (counted in a file), then succeed."""
    marker = Path(job["counter_file"])
    calls = int(marker.read_text()) + 1 if marker.exists() else 1
    marker.write_text(str(calls))
    if calls <= job["fail_times"]:
        raise RuntimeError(f"transient failure {calls}")
    return f"succeeded after {calls} calls"
