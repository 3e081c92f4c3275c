"""Durable Functions patterns, written the way the official Python v2 docs show them."""

import azure.durable_functions as df
import azure.functions as func

from greetings import bp as greetings_bp

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(greetings_bp)


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start any orchestrator of this sample app by name (a test app, not a pattern for production)."""
    payload = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["functionName"], None, payload)
    return client.create_check_status_response(req, instance_id)


@app.route(route="status/{instanceId}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def get_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Report an instance's status through the SDK client."""
    status = await client.get_status(req.route_params["instanceId"])
    if status.runtime_status is None:
        return func.HttpResponse("not found", status_code=404)
    return func.HttpResponse(json_dumps(status.to_json()), mimetype="application/json")


@app.route(route="ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> func.HttpResponse:
    """A synchronous, anonymous function."""
    return func.HttpResponse(f"pong {req.params.get('name', '')}".strip())


def json_dumps(value: object) -> str:
    import json

    return json.dumps(value, default=str)


@app.orchestration_trigger(context_name="context")
def chaining(context: df.DurableOrchestrationContext):
    """Function chaining: three activities in sequence."""
    first = yield context.call_activity("say_hello", "Tokyo")
    second = yield context.call_activity("say_hello", "Seattle")
    third = yield context.call_activity("say_hello", "London")
    return [first, second, third]


@app.orchestration_trigger(context_name="context")
def fan_out_fan_in(context: df.DurableOrchestrationContext):
    """Fan-out/fan-in: run one activity per work item in parallel, then sum the results."""
    count = context.get_input() or 5
    context.set_custom_status({"step": "fan-out", "items": count})
    tasks = [context.call_activity("square", n) for n in range(1, count + 1)]
    results = yield context.task_all(tasks)
    context.set_custom_status({"step": "done"})
    return sum(results)


@app.activity_trigger(input_name="n")
def square(n: int) -> int:
    """Square a number."""
    return n * n
