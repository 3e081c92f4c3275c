"""The CLI's behaviour that needs no host: exit codes for each kind of answer, following a superseded request,
Ctrl-C, redaction of secrets, the config file, webhook signatures, the progress display (fake HTTP: httpx's
MockTransport; the real host is tests/cli/test_end_to_end.py)."""

import base64
import hashlib
import hmac
import io
import json
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from ftdeploy import cli, config_file, waiting
from ftdeploy.client import ServiceClient
from ftdeploy.errors import CliError, Exit
from ftdeploy.output import Output
from ftdeploy.progress import LiveDisplay, meters
from ftdeploy.webhook import signed_headers

KEY = "unit-test-key-31ab"
Route = Callable[[httpx.Request], httpx.Response]


def error(status: int, message: str, **extra: Any) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, **extra}})


def status_body(instance_id: str, runtime: str, **fields: Any) -> dict[str, Any]:
    return {"instanceId": instance_id, "name": "deploy", "runtimeStatus": runtime, "customStatus": None,
            "output": None, "error": None, "createdTime": "t0", "lastUpdatedTime": "t1"} | fields


@pytest.fixture
def fake_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Route], list[httpx.Request]]]:
    """Make the CLI talk to `route` (a function of the request) instead of a host; returns the requests sent."""
    monkeypatch.setattr(waiting, "POLL_SECONDS", 0.0)

    def install(route: Route) -> list[httpx.Request]:
        sent: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return route(request)

        real = ServiceClient.__init__

        def with_transport(self: ServiceClient, base_url: str, key: str | None, *_: Any, **__: Any) -> None:
            real(self, base_url, key, transport=httpx.MockTransport(handler))

        monkeypatch.setattr(ServiceClient, "__init__", with_transport)
        return sent

    yield install


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["--key", KEY, *args])
    out, err = capsys.readouterr()
    assert KEY not in out + err
    return code, out, err


def test_a_400_is_exit_2_with_the_api_message_and_its_fields(fake_service, capsys) -> None:
    fake_service(lambda _: error(400, "cannot deploy: base_model: no base model at 'x'",
                                 fields=[{"field": "base_model", "message": "no base model at 'x'"}]))
    code, _, err = run(capsys, "deploy", "--app", "my-app", "--base-model", "x")
    assert code == Exit.USAGE
    assert "POST /api/deploy answered 400: cannot deploy: base_model: no base model at 'x'" in err


def test_a_409_names_the_running_request_and_how_to_follow_it(fake_service, capsys) -> None:
    fake_service(lambda _: error(409, "a deploy is already running", instanceId="deploy_my-app"))
    code, _, err = run(capsys, "deploy", "--app", "my-app", "--base-model", "m")
    assert code == Exit.USAGE and "ftdeploy status deploy_my-app --wait" in err


def test_a_5xx_is_exit_4(fake_service, capsys) -> None:
    fake_service(lambda _: error(503, "the deployer did not acknowledge the request"))
    code, _, err = run(capsys, "deploy", "--app", "my-app", "--base-model", "m")
    assert code == Exit.SERVER_ERROR and "503" in err and "did not acknowledge" in err


def test_an_unreachable_host_is_exit_3_and_says_where_it_looked(capsys) -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = cli.main(["--url", f"http://127.0.0.1:{port}", "--key", KEY, "apps"])
    err = capsys.readouterr().err
    assert code == Exit.UNREACHABLE and f"cannot reach the service at http://127.0.0.1:{port}" in err
    assert KEY not in err


def test_a_route_the_host_lacks_is_said_so(fake_service, capsys) -> None:
    fake_service(lambda _: httpx.Response(404, json={"error": "No function matches this route."}))
    code, _, err = run(capsys, "apps")
    assert code == Exit.USAGE and "has no such route" in err


def test_a_failed_orchestration_is_exit_1_with_its_error(fake_service, capsys) -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json={"id": "deploy_a_1"})
        return httpx.Response(200, json=status_body("deploy_a_1", "Failed", error="step 'restart' failed: boom"))

    fake_service(route)
    code, _, err = run(capsys, "deploy", "--app", "my-app", "--base-model", "m")
    assert code == Exit.FAILED and "deploy deploy_a_1 failed: step 'restart' failed: boom" in err


def test_a_superseded_deploy_is_followed_to_the_request_that_replaced_it(fake_service, capsys) -> None:
    states = {"deploy_a_1": [status_body("deploy_a_1", "Pending"),
                             status_body("deploy_a_1", "Completed", output={"superseded_by": "deploy_a_2"})],
              "deploy_a_2": [status_body("deploy_a_2", "Completed", output={
                  "app_name": "my-app", "endpoint": "http://e", "version": "v2", "revision": "r2"})]}

    def route(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json={"id": "deploy_a_1"})
        queue = states[request.url.path.rsplit("/", 1)[1]]
        return httpx.Response(200, json=queue.pop(0) if len(queue) > 1 else queue[0])

    fake_service(route)
    code, out, err = run(capsys, "deploy", "--app", "my-app", "--base-model", "m")
    assert code == Exit.OK
    assert "deploy_a_1 was superseded by deploy_a_2" in err and "queued" in err
    assert "Deployed my-app: adapter version v2 serves at http://e" in out


def test_ctrl_c_stops_waiting_and_says_the_deploy_goes_on(fake_service, capsys) -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json={"id": "deploy_a_1"})
        raise KeyboardInterrupt

    fake_service(route)
    code, _, err = run(capsys, "deploy", "--app", "my-app", "--base-model", "m")
    assert code == Exit.INTERRUPTED
    assert "deploy_a_1 was not cancelled and goes on" in err and "ftdeploy status deploy_a_1 --wait" in err


def test_the_key_goes_in_a_header_and_no_code_url_is_printed(fake_service, capsys) -> None:
    answer = {"id": "p1", "statusQueryGetUri": f"http://h/runtime/webhooks/durabletask/instances/p1?code={KEY}x"}
    sent = fake_service(lambda _: httpx.Response(202, json=answer))
    code, out, _ = run(capsys, "provision", "--no-wait", "--json")
    assert code == Exit.OK and json.loads(out) == {"id": "p1", "statusUrl": "http://localhost:7071/api/status/p1"}
    assert sent[0].headers["x-functions-key"] == KEY and "code" not in str(sent[0].url)


def test_redaction_hides_secrets_and_code_parameters() -> None:
    output = Output(as_json=False, secrets=(KEY,))
    assert output.redact(f"a {KEY} b http://h/x?a=1&code=abc.def&b=2") == "a *** b http://h/x?a=1&code=***&b=2"
    assert output.redacted({"u": [f"?code={KEY}"]}) == {"u": ["?code=***"]}


def test_provision_flags_become_body_fields_and_set_adds_any_other(fake_service, capsys) -> None:
    sent = fake_service(lambda _: httpx.Response(202, json={"id": "p1"}))
    run(capsys, "provision", "--target", "azure", "--app", "my-app", "--location", "westus3", "--gpu-profile",
        "NC24-A100", "--set", "min_replicas=0", "--set", "resources_to_create=[\"fileShare\"]", "--no-wait")
    assert json.loads(sent[0].content) == {"target": "azure", "app_name": "my-app", "location": "westus3",
                                           "gpu_profile_type": "NC24-A100", "min_replicas": 0,
                                           "resources_to_create": ["fileShare"]}


def test_deploy_without_an_app_reads_the_config_and_refuses_the_unfilled_template(tmp_path: Path,
                                                                                    fake_service, capsys) -> None:
    sent = fake_service(lambda _: httpx.Response(202, json={"id": "d1"}))
    config = tmp_path / "inference.config.json"
    config.write_text(json.dumps({"ACA_APP_NAME": "<container app: outputs.ACA_APP_NAME>"}))
    code, _, err = run(capsys, "deploy", "--config", str(config), "--base-model", "m", "--no-wait")
    assert code == Exit.USAGE and "ACA_APP_NAME is not filled in" in err and not sent
    config.write_text(json.dumps({"ACA_APP_NAME": "from-file", "SUBSCRIPTION_ID": "local"}))
    assert run(capsys, "deploy", "--config", str(config), "--base-model", "m", "--no-wait")[0] == Exit.OK
    assert json.loads(sent[0].content) == {"app_name": "from-file", "target": "local", "base_model": "m"}


def test_write_config_keeps_other_keys_and_refuses_an_output_without_the_toolkit_keys(tmp_path: Path) -> None:
    path = tmp_path / "infra" / "inference.config.json"
    outputs = {key: f"v-{key}" for key in config_file.KEYS}
    path.parent.mkdir()
    path.write_text(json.dumps({"OWN": "kept", "ACA_APP_NAME": "old"}))
    config_file.write_config(path, outputs | {"extra": "dropped"})
    assert json.loads(path.read_text()) == {"OWN": "kept", **outputs}
    with pytest.raises(CliError):
        config_file.write_config(path, {"ACA_APP_NAME": "x"})


@pytest.mark.parametrize("library", [True, False], ids=["standardwebhooks", "hmac"])
def test_webhook_headers_verify_as_standard_webhooks_and_a_bad_secret_is_refused_without_echo(
        library: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if library:
        pytest.importorskip("standardwebhooks")
    else:
        monkeypatch.setitem(sys.modules, "standardwebhooks", None)  # import fails: the hmac fallback signs
    key = b"k" * 32
    secret = "whsec_" + base64.b64encode(key).decode()
    body = b'{"app_name":"a","adapter_path":"p"}'
    headers = signed_headers(secret, "test", body, now=1_700_000_000)
    assert headers["webhook-timestamp"] == "1700000000" and headers["webhook-id"].startswith("msg_")
    signed = f"{headers['webhook-id']}.1700000000.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    with pytest.raises(CliError) as refused:
        signed_headers("whsec_not base64!", "FTDEPLOY_WEBHOOK_SECRET", body)
    assert "not base64" not in refused.value.message and "FTDEPLOY_WEBHOOK_SECRET" in refused.value.message


def test_notify_without_a_secret_is_exit_2(fake_service, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FTDEPLOY_WEBHOOK_SECRET", raising=False)
    sent = fake_service(lambda _: httpx.Response(202, json={"id": "d1"}))
    code, _, err = run(capsys, "notify", "--app", "a-app", "--adapter-path", "p")
    assert code == Exit.USAGE and "FTDEPLOY_WEBHOOK_SECRET" in err and not sent


def test_meters_read_counts_from_the_custom_status() -> None:
    custom = {"step": "snapshot_adapter", "files_done": 3, "files_total": 7, "bytes_done": 2**20,
              "bytes_total": 2**21, "elapsed_s": 12, "deadline_s": 600,
              "resources": [{"type": "Microsoft.App/containerApps", "name": "chat", "state": "Running"},
                            {"type": "Microsoft.Storage/storageAccounts", "name": "st", "state": "Succeeded"}]}
    assert [meter.amount() for meter in meters(custom)] == ["3/7 files", "1.0/2.0 MiB", "12/600 s",
                                                            "1/2 resources"]


def _live_display_of(custom_status: dict[str, Any]) -> str:
    """What the live display draws for a running deploy with this customStatus."""
    screen = io.StringIO()
    display = LiveDisplay(Output(as_json=False), console=Console(file=screen, force_terminal=True, width=120))
    with display:
        display.show("deploy_a_1", status_body("deploy_a_1", "Running", customStatus=custom_status))
        display.live.refresh()
        return screen.getvalue()


def test_the_live_display_shows_the_step_its_counts_and_the_detail() -> None:
    shown = _live_display_of({
        "step": "wait_ready", "step_number": 4, "total_steps": 5, "message": "Waiting for r2 to serve",
        "detail": "revision r2 is loading (/ready: 503)", "elapsed_s": 3, "deadline_s": 600})
    assert "[4/5] Waiting for r2 to serve" in shown and "revision r2 is loading" in shown and "3/600 s" in shown


def test_the_live_display_says_the_step_count_is_unknown_until_the_service_knows_it() -> None:
    shown = _live_display_of({"step": "choose_strategy", "step_number": 3, "total_steps": None,
                              "message": "Choosing how to reach the new version from what changed"})
    assert "[3/?] Choosing how to reach the new version" in shown
