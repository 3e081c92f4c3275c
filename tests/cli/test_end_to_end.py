"""`ftdeploy` against this function app on the local host: provision, deploy, status, apps, history, failures.

One host for the module (each start costs seconds on a 2-core machine); each CLI call is its own process, as a
user runs it, and none may print the function key or the webhook secret, nor a stack trace.
"""

import base64
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devtools.devhost.process import HostProcess
from devtools.tiny_model import TinyModelPaths
from devtools.tiny_model.build import ADAPTER_SUBDIR, BASE_SUBDIR
from service_settings import FUNCTION_APP_ROOT
from targets.local.process_control import stop_all
from tests.cli.runner import CliRun, ftdeploy

pytestmark = pytest.mark.slow  # drives the function app on a devhost process, and the CLI as processes

KEY = "cli-function-key-7f3a9c"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"ftdeploy-test-webhook-secret-32b").decode()
APP = "cli-chat"
BASE_MODEL = BASE_SUBDIR.as_posix()
SECRETS = (KEY, WEBHOOK_SECRET)


@dataclass(frozen=True)
class Service:
    """The host, its local target root, and a working directory for the CLI (where infra/ is written)."""

    host: HostProcess
    root: Path
    workdir: Path

    def env(self, key: str = KEY) -> dict[str, str]:
        """The CLI's environment: where the service is and its key."""
        return {"FTDEPLOY_URL": self.host.base_url, "FTDEPLOY_KEY": key}

    def run(self, *args: str, env: dict[str, str] | None = None) -> CliRun:
        """`ftdeploy ARGS` in the working directory, printing no secret."""
        return ftdeploy(*args, cwd=self.workdir, env=env or self.env(), secrets=SECRETS)


@pytest.fixture(scope="module")
def service(tiny_share: TinyModelPaths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The function app on devhost with a function key and a webhook secret, its local target in a temp dir."""
    root = tmp_path_factory.mktemp("cli-target")
    shutil.copytree(tiny_share.share_dir, root / "share")
    env = {"LOCAL_TARGET_ROOT": str(root), "READINESS_POLL_SECONDS": "1", "WEBHOOK_SECRET": WEBHOOK_SECRET}
    workdir = tmp_path_factory.mktemp("cli-workdir")
    with HostProcess(FUNCTION_APP_ROOT, root / "devhost", function_key=KEY, env=env) as host:
        yield Service(host, root, workdir)
    stop_all(root / "apps")


@pytest.fixture(scope="module")
def provisioned(service: Service) -> CliRun:
    """`ftdeploy provision` of APP, writing infra/inference.config.json in the working directory."""
    return service.run("provision", "--app", APP)


@pytest.fixture(scope="module")
def deployed(service: Service, provisioned: CliRun) -> CliRun:
    """`ftdeploy deploy --json` naming only the base model: the app comes from infra/inference.config.json."""
    assert provisioned.code == 0, provisioned.text()
    return service.run("deploy", "--base-model", BASE_MODEL, "--json")


def test_provision_writes_the_inference_config_with_the_toolkit_keys(service: Service, provisioned: CliRun) -> None:
    assert provisioned.code == 0, provisioned.text()
    config = json.loads((service.workdir / "infra" / "inference.config.json").read_text())
    assert set(config) == {"SUBSCRIPTION_ID", "RESOURCE_GROUP_NAME", "STORAGE_ACCOUNT_NAME", "FILE_SHARE_NAME",
                           "ACA_APP_NAME", "ACA_APP_ENDPOINT"}
    assert config["ACA_APP_NAME"] == APP and config["ACA_APP_ENDPOINT"].startswith("http://127.0.0.1:")
    assert f"Provisioned {APP} at {config['ACA_APP_ENDPOINT']}" in provisioned.stdout
    assert "infra/inference.config.json" in provisioned.stdout


def test_provision_with_config_flag_writes_there(service: Service, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "inference.config.json"
    run = service.run("provision", "--app", APP, "--config", str(target), "--json")
    assert run.code == 0, run.text()
    assert run.json()["runtimeStatus"] == "Completed" and run.json()["configFile"] == str(target)
    assert json.loads(target.read_text())["ACA_APP_NAME"] == APP


def test_deploy_reads_the_app_from_the_config_and_serves(service: Service, deployed: CliRun) -> None:
    assert deployed.code == 0, deployed.text()
    final = deployed.json()
    assert final["runtimeStatus"] == "Completed"
    output = final["output"]
    assert output["app_name"] == APP and output["base_model"] == BASE_MODEL
    assert httpx.get(f"{output['endpoint']}/ready", timeout=30).status_code == 200
    assert final["instanceId"] in deployed.stderr  # "Started <id>; Ctrl-C stops waiting without cancelling it"


def test_deploy_prints_what_serves_where(service: Service, deployed: CliRun) -> None:
    assert deployed.code == 0, deployed.text()
    run = service.run("status", deployed.json()["instanceId"])
    output = deployed.json()["output"]
    assert run.code == 0, run.text()
    assert "Completed" in run.stdout
    assert f"Deployed {APP}: adapter version {output['version']} serves at {output['endpoint']}" in run.stdout


def test_status_json_is_the_api_answer(service: Service, deployed: CliRun) -> None:
    instance_id = deployed.json()["instanceId"]
    run = service.run("status", instance_id, "--json")
    assert run.code == 0, run.text()
    assert run.json()["instanceId"] == instance_id and run.json()["output"] == deployed.json()["output"]


def test_apps_lists_the_app_and_the_version_it_serves(service: Service, deployed: CliRun) -> None:
    version = deployed.json()["output"]["version"]
    run = service.run("apps")
    assert run.code == 0, run.text()
    line = next(line for line in run.stdout.splitlines() if APP in line)
    assert version in line and "local" in line
    listed = {app["name"]: app for app in service.run("apps", "--json").json()["apps"]}
    assert listed[APP]["serving"]["version"] == version


def test_deployments_lists_the_deploy_request(service: Service, deployed: CliRun) -> None:
    request_id = deployed.json()["instanceId"]
    run = service.run("deployments", APP)
    assert run.code == 0, run.text()
    assert request_id in run.stdout and "succeeded" in run.stdout
    rows = service.run("deployments", APP, "--json").json()["deployments"]
    assert any(row["request_id"] == request_id and row["result"] == "succeeded" for row in rows)


def test_rollback_redeploys_a_version_with_the_base_model_the_app_serves(service: Service, deployed: CliRun) -> None:
    version = deployed.json()["output"]["version"]
    run = service.run("rollback", APP, version, "--json")
    assert run.code == 0, run.text()
    output = run.json()["output"]
    assert output["version"] == version and output["base_model"] == BASE_MODEL
    assert output["changes"]["adapter_files_copied"] == 0


def test_rollback_to_a_version_never_deployed_is_refused_by_name(service: Service, deployed: CliRun) -> None:
    run = service.run("rollback", APP, "no-such-version")
    assert run.code == 2
    assert "no adapter version 'no-such-version' to roll back to" in run.stderr


def test_deploy_of_a_base_model_not_on_the_share_is_the_api_400_and_exit_2(service: Service,
                                                                              provisioned: CliRun) -> None:
    run = service.run("deploy", "--app", APP, "--base-model", "model-cache/nobody/missing")
    assert run.code == 2
    assert "answered 400" in run.stderr and "base_model" in run.stderr and "no base model at" in run.stderr


def test_a_wrong_key_is_exit_2_and_the_key_is_not_printed(service: Service) -> None:
    wrong = "wrong-key-5d1e0b"
    run = ftdeploy("apps", cwd=service.workdir, env=service.env(wrong), secrets=(*SECRETS, wrong))
    assert run.code == 2 and "401" in run.stderr and "FTDEPLOY_KEY" in run.stderr


def test_no_wait_prints_the_request_and_status_wait_follows_it(service: Service, tmp_path: Path) -> None:
    started = service.run("provision", "--app", "cli-later", "--no-wait", "--json")
    assert started.code == 0, started.text()
    instance_id = started.json()["id"]
    assert started.json()["statusUrl"] == f"{service.host.base_url}/api/status/{instance_id}"
    config = tmp_path / "later.json"
    run = service.run("status", instance_id, "--wait", "--config", str(config))
    assert run.code == 0, run.text()
    assert json.loads(config.read_text())["ACA_APP_NAME"] == "cli-later"


def test_notify_sends_a_signed_webhook_whose_deploy_it_follows(service: Service, deployed: CliRun) -> None:
    env = service.env() | {"FTDEPLOY_WEBHOOK_SECRET": WEBHOOK_SECRET}
    run = service.run("notify", "--app", APP, "--adapter-path", ADAPTER_SUBDIR.as_posix(), "--run-id", "run-42",
                      "--json", env=env)
    assert run.code == 0, run.text()
    assert run.json()["output"]["version"] == deployed.json()["output"]["version"]
    rows = service.run("deployments", APP, "--json").json()["deployments"]
    assert any(row["trigger"].get("run_id") == "run-42" for row in rows)


def test_notify_with_a_wrong_secret_is_refused(service: Service, tmp_path: Path) -> None:
    wrong = "whsec_" + base64.b64encode(b"not-the-secret-the-service-has!!").decode()
    secret_file = tmp_path / "secret"
    secret_file.write_text(wrong + "\n")
    run = ftdeploy("notify", "--app", APP, "--adapter-path", ADAPTER_SUBDIR.as_posix(), "--secret-file",
                   str(secret_file), cwd=service.workdir, env=service.env(), secrets=(*SECRETS, wrong))
    assert run.code == 2 and "401" in run.stderr


def test_register_adds_an_app_provisioned_by_hand(service: Service, tmp_path: Path) -> None:
    config = tmp_path / "manual.json"
    config.write_text(json.dumps({"SUBSCRIPTION_ID": "local", "RESOURCE_GROUP_NAME": "local",
                                  "STORAGE_ACCOUNT_NAME": "local", "FILE_SHARE_NAME": "local-share",
                                  "ACA_APP_NAME": "cli-manual", "ACA_APP_ENDPOINT": "http://127.0.0.1:9"}))
    run = service.run("register", "--config", str(config))
    assert run.code == 0, run.text()
    listed = {app["name"]: app for app in service.run("apps", "--json").json()["apps"]}
    assert listed["cli-manual"]["endpoint"] == "http://127.0.0.1:9"


def test_the_installed_command_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ftdeploy"
    assert script.exists(), "no .venv/bin/ftdeploy: `make install` installs it (pip install -e .)"
    done = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and "provision" in done.stdout and "deploy" in done.stdout


def test_a_deploy_that_fails_in_its_orchestration_exits_1_with_the_error(service: Service) -> None:
    """Last in the module: the broken revision may keep restarting until the host's apps are stopped."""
    broken = service.root / "share" / "model-cache" / "local" / "broken-chat"
    shutil.copytree(service.root / "share" / BASE_SUBDIR, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # a base model whose copy to the share was cut short
    assert service.run("provision", "--app", "cli-broken", "--config", "broken.json").code == 0
    run = service.run("deploy", "--config", "broken.json", "--base-model", "model-cache/local/broken-chat",
                      "--timeout", "5")
    assert run.code == 1, run.text()
    assert "failed: step 'wait_ready' failed" in run.stderr
    assert "was not ready within 5 s" in run.stderr or "keeps crashing" in run.stderr
