"""The stdlib notifier a training job runs: it interoperates with the standardwebhooks library both ways, retries
with the same webhook-id, stops on a 4xx, and reaches the real route over HTTP."""

import asyncio
import base64
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from standardwebhooks import Webhook

from http_api.webhooks import training_complete
from inference_container import notify_training_complete as notifier
from tests.function_app.durable_client import FakeDurableClient
from tests.function_app.invoke import client_function
from tests.function_app.webhook_helpers import ADAPTER, SECRET, deploys, webhook_ready_share

SECOND = "whsec_" + base64.b64encode(b"second-secret-for-rotation-32by").decode()
ENV = {notifier.SECRET_ENV: SECRET}


def delivery(**changes: Any) -> notifier.Delivery:
    defaults: dict[str, Any] = {"url": "http://127.0.0.1:9/x", "body": b'{"app_name": "chat"}', "webhook_id": "msg_n",
                                "keys": notifier.secret_keys(SECRET), "backoff_s": 1.0}
    return notifier.Delivery(**(defaults | changes))


def test_the_library_verifies_what_the_notifier_signs() -> None:
    sent = delivery()
    headers = sent.headers(datetime.now(UTC).timestamp())
    Webhook(SECRET).verify(sent.body, headers)  # raises when it does not verify


def test_the_notifier_signs_exactly_as_the_library_does() -> None:
    moment = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    body = b'{"app_name": "chat", "adapter_path": "models/a"}'
    ours = notifier.signature(notifier.secret_keys(SECRET), "msg_x", int(moment.timestamp()), body)
    assert ours == Webhook(SECRET).sign("msg_x", moment, body.decode())


def test_with_two_secrets_in_the_environment_either_verifier_accepts() -> None:
    sent = delivery(keys=notifier.secret_keys(f"{SECRET} {SECOND}"))
    headers = sent.headers(datetime.now(UTC).timestamp())
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (SECRET, SECOND):
        Webhook(secret).verify(sent.body, headers)


def test_5xx_and_connection_errors_are_retried_with_the_same_id_and_fresh_signatures() -> None:
    answers: list[Any] = [notifier.Reply(503, "{}"), OSError("connection refused"), notifier.Reply(202, "{}")]
    seen: list[dict[str, str]] = []
    clock = iter([1_000.0, 1_010.0, 1_030.0])
    sleeps: list[float] = []

    def send(url: str, body: bytes, headers: Any, timeout: float) -> notifier.Reply:
        seen.append(dict(headers))
        answer = answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer

    assert delivery().run(send=send, sleep=sleeps.append, clock=lambda: next(clock), out=lambda _: None) == 0
    assert {headers["webhook-id"] for headers in seen} == {"msg_n"}
    assert [headers["webhook-timestamp"] for headers in seen] == ["1000", "1010", "1030"]
    assert len({headers["webhook-signature"] for headers in seen}) == 3
    assert sleeps == [1.0, 2.0]


def test_a_4xx_is_final_and_says_what_the_service_said() -> None:
    lines: list[str] = []
    refusal = json.dumps({"error": {"message": "app 'nope' is not known"}})
    calls: list[int] = []

    def send(*_: Any) -> notifier.Reply:
        calls.append(1)
        return notifier.Reply(404, refusal)

    assert delivery().run(send=send, sleep=lambda _: None, out=lines.append) == notifier.REFUSED
    assert len(calls) == 1 and "HTTP 404" in lines[-1] and "app 'nope' is not known" in lines[-1]


def test_it_gives_up_after_the_attempts_with_exit_3() -> None:
    lines: list[str] = []

    def send(*_: Any) -> notifier.Reply:
        raise OSError("no route to host")

    assert delivery(attempts=3).run(send=send, sleep=lambda _: None, out=lines.append) == notifier.GAVE_UP
    assert "after 3 attempts" in lines[-1] and "no route to host" in lines[-1]


@pytest.mark.parametrize("environment", [{}, {notifier.SECRET_ENV: "whsec_!!not-base64!!"}])
def test_a_missing_or_malformed_secret_is_exit_2_naming_the_variable(environment, capsys) -> None:
    argv = ["--url", "http://127.0.0.1:9/api/webhooks/training-complete", "--app", "chat"]
    assert notifier.main(argv, environment) == notifier.USAGE
    err = capsys.readouterr().err
    assert notifier.SECRET_ENV in err and "not-base64" not in err


class RouteServer(http.server.ThreadingHTTPServer):
    """The webhook route behind a real HTTP socket, in this process; the first `fail_first` calls answer 503."""

    def __init__(self, client: FakeDurableClient, fail_first: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), RouteHandler)
        self.client, self.fail_first, self.calls = client, fail_first, 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/webhooks/training-complete"


class RouteHandler(http.server.BaseHTTPRequestHandler):
    server: RouteServer

    def do_POST(self) -> None:
        self.server.calls += 1
        raw = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.server.calls <= self.server.fail_first:
            reply = func.HttpResponse('{"error": {"message": "busy"}}', status_code=503)
        else:
            req = func.HttpRequest("POST", self.server.url, body=raw, headers=dict(self.headers.items()))
            reply = asyncio.run(client_function(training_complete)(req, self.server.client))
        self.send_response(reply.status_code)
        self.end_headers()
        self.wfile.write(reply.get_body())

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def route(local_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RouteServer]:
    webhook_ready_share(local_root, monkeypatch)
    server = RouteServer(FakeDurableClient(), fail_first=1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_notifier_redeploys_through_the_real_route_and_a_rerun_deploys_once(route: RouteServer, capsys) -> None:
    argv = ["--url", route.url, "--app", "chat", "--adapter-path", ADAPTER, "--run-id", "run-1",
            "--webhook-id", "msg_run-1", "--backoff", "0"]
    assert notifier.main(argv, ENV) == notifier.ACCEPTED
    assert route.calls == 2  # a 503, then accepted
    assert notifier.main(argv, ENV) == notifier.ACCEPTED
    [event] = deploys(route.client)
    assert event.trigger.webhook_id == "msg_run-1" and event.trigger.run_id == "run-1"
    assert event.job.adapter_source == ADAPTER
    out = capsys.readouterr()
    assert SECRET.removeprefix("whsec_") not in out.out + out.err and "accepted" in out.out


def test_the_notifier_reports_a_refusal_by_the_real_route(route: RouteServer, capsys) -> None:
    argv = ["--url", route.url, "--app", "nope", "--backoff", "0"]
    assert notifier.main(argv, ENV) == notifier.REFUSED
    assert "is not known" in capsys.readouterr().err
    assert route.client.events == []
