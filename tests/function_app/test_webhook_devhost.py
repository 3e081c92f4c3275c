"""The training-complete webhook end to end on devhost: refusals start nothing, the notifier's call redeploys the
app with the new adapter, a redelivery deploys nothing more, and accepted ids are remembered across a restart."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from devtools.devhost.process import HostProcess
from inference_container import notify_training_complete as notifier
from service_settings import FUNCTION_APP_ROOT
from share_layout import paths
from targets.local.app_files import AppFiles
from targets.local.process_control import stop_all
from tests.function_app.host import HTTP_TIMEOUT, instances, run, wait_for
from tests.function_app.webhook_helpers import ADAPTER, BASE_MODEL, ROUTE, SECRET, body_bytes, signed_headers

pytestmark = pytest.mark.slow  # drives the function app on a devhost process

KEY = "test-key"
NEW_ADAPTER = "models/run-2/adapter"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("webhook-target")


@pytest.fixture(scope="module")
def host(tiny_share, root: Path) -> Iterator[HostProcess]:
    """The function app on devhost with WEBHOOK_SECRET set and a function key (the webhook needs none)."""
    shutil.copytree(tiny_share.share_dir, root / "share")
    env = {"LOCAL_TARGET_ROOT": str(root), "READINESS_POLL_SECONDS": "1", "WEBHOOK_SECRET": SECRET}
    with HostProcess(FUNCTION_APP_ROOT, root / "devhost", function_key=KEY, env=env) as process:
        yield process
    stop_all(root / "apps")


@pytest.fixture(scope="module")
def serving(host: HostProcess) -> dict[str, Any]:
    """App `chat` provisioned and deployed once with the training adapter: its deploy output."""
    assert run(host, "provision", {"app_name": "chat"})["runtimeStatus"] == "Completed"
    deployed = run(host, "deploy", {"app_name": "chat", "base_model": BASE_MODEL})
    assert deployed["runtimeStatus"] == "Completed", deployed
    return dict(deployed["output"])


def post(host: HostProcess, body: bytes, headers: dict[str, str], content_type: str = "application/json"
         ) -> httpx.Response:
    """POST to the webhook route without a function key."""
    return httpx.post(host.url(f"/api/{ROUTE}"), content=body, headers=headers | {"content-type": content_type},
                      timeout=HTTP_TIMEOUT)


def instance_ids(host: HostProcess) -> set[str]:
    return {item["instanceId"] for item in instances(host)}


def signed(body: bytes, webhook_id: str = "msg_bad", **changes: Any) -> dict[str, str]:
    return signed_headers(body, webhook_id, **changes)


BAD = [
    ("no headers", lambda: (body_bytes(), {}), 400, "webhook-id"),
    ("wrong secret", lambda: (body_bytes(), signed(body_bytes(), secret="whsec_" + "A" * 43)), 401, "signature"),
    ("stale", lambda: (body_bytes(), signed(body_bytes(), at=1_000_000)), 401, "in the past"),
    ("bad json", lambda: (b"{nope", signed(b"{nope")), 400, "not valid JSON"),
    ("unknown field", lambda: (body_bytes(colour="red"), signed(body_bytes(colour="red"))), 400, "colour"),
    ("escaping", lambda: (body_bytes(adapter_path="../x"), signed(body_bytes(adapter_path="../x"))), 400,
     "adapter_path"),
    ("unknown app", lambda: (body_bytes(app_name="nope"), signed(body_bytes(app_name="nope"))), 404, "nope"),
    ("too large", lambda: (b" " * 70_000, {}), 413, "larger than"),
]


@pytest.mark.parametrize(("case", "make", "expected", "named"), BAD, ids=[case for case, *_ in BAD])
def test_every_bad_webhook_is_4xx_and_starts_nothing(host: HostProcess, serving, case, make, expected,
                                                     named) -> None:
    before = instance_ids(host)
    body, headers = make()
    reply = post(host, body, headers)
    assert reply.status_code == expected, reply.text
    assert named in reply.json()["error"]["message"]
    assert instance_ids(host) == before


def test_a_non_json_content_type_is_415(host: HostProcess, serving) -> None:
    before = instance_ids(host)
    reply = post(host, body_bytes(), signed(body_bytes()), content_type="text/plain")
    assert reply.status_code == 415 and instance_ids(host) == before


def notify(host: HostProcess, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the notifier as a training job would, from the copy deploy synced to the share."""
    script = Path(host.state_dir).parent / "share" / paths.INFERENCE_PACKAGE / "notify_training_complete.py"
    command = [sys.executable, str(script), "--url", host.url(f"/api/{ROUTE}"), "--app", "chat", *extra]
    environment = {"PATH": "/usr/bin:/bin", notifier.SECRET_ENV: SECRET}
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, check=False)


def accepted(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The service's 202 answer, as the notifier printed it last."""
    return dict(json.loads(done.stdout.strip().splitlines()[-1].split(": ", 1)[1]))


@pytest.fixture(scope="module")
def redeployed(host: HostProcess, root: Path, serving: dict[str, Any]) -> dict[str, Any]:
    """A new adapter on the share, announced by the notifier: the 202 answer and the finished deploy."""
    new = root / "share" / NEW_ADAPTER
    shutil.copytree(root / "share" / ADAPTER, new)
    config = json.loads((new / "adapter_config.json").read_text())
    (new / "adapter_config.json").write_text(json.dumps(config | {"revision": "run-2"}))
    synced = root / "share" / paths.INFERENCE_PACKAGE / "notify_training_complete.py"
    assert synced.is_file()  # deploy put the notifier on the share beside the server
    done = notify(host, "--adapter-path", NEW_ADAPTER, "--run-id", "run-2", "--webhook-id", "msg_run-2")
    assert done.returncode == 0, done.stderr
    answer = accepted(done)
    finished = wait_for(host, answer["id"])
    assert finished["runtimeStatus"] == "Completed", finished
    return {"answer": answer, "output": finished["output"], "stdout": done.stdout + done.stderr}


def webhook_deploys(host: HostProcess) -> list[str]:
    return [item["instanceId"] for item in instances(host) if "_wh_" in item["instanceId"]]


def test_the_notifier_redeploys_the_app_and_it_serves_the_new_adapter(root: Path, serving, redeployed) -> None:
    output = redeployed["output"]
    assert output["version"] != serving["version"] and output["base_model"] == BASE_MODEL
    current = json.loads((root / "share" / paths.current_record("chat")).read_text())
    assert current["version"] == output["version"]
    client = OpenAI(base_url=f"{output['endpoint']}/v1", api_key=AppFiles(root / "apps" / "chat").ensure_api_key(),
                    timeout=120)
    assert output["version"] in {model.id for model in client.models.list()}
    assert SECRET.removeprefix("whsec_") not in redeployed["stdout"]


def test_a_redelivery_gets_the_same_answer_and_deploys_nothing(host: HostProcess, redeployed) -> None:
    before = webhook_deploys(host)
    again = notify(host, "--adapter-path", NEW_ADAPTER, "--run-id", "run-2", "--webhook-id", "msg_run-2")
    assert again.returncode == 0, again.stderr
    assert accepted(again)["id"] == redeployed["answer"]["id"]
    assert webhook_deploys(host) == before and len(before) == 1


def test_an_accepted_id_is_remembered_after_a_host_restart(host: HostProcess, redeployed) -> None:
    host.kill()
    host.start()
    before = instance_ids(host)
    same = body_bytes(adapter_path=NEW_ADAPTER, run_id="run-2")
    reply = post(host, same, signed(same, webhook_id="msg_run-2"))
    assert reply.status_code == 202 and reply.json()["id"] == redeployed["answer"]["id"], reply.text
    other = body_bytes(adapter_path=ADAPTER, run_id="run-3")
    replayed = post(host, other, signed(other, webhook_id="msg_run-2"))
    assert replayed.status_code == 409 and "different body" in replayed.json()["error"]["message"]
    assert instance_ids(host) == before


def readme_recipe() -> str:
    """The README's curl + openssl recipe, as a user would paste it."""
    section = (FUNCTION_APP_ROOT / "README.md").read_text().split("### From any other pipeline: curl + openssl", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")), reason="needs curl and openssl")
def test_the_readme_curl_and_openssl_recipe_is_signed_as_the_library_verifies(host: HostProcess, serving) -> None:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "WEBHOOK_SECRET": SECRET,
                   "FT_WEBHOOK_URL": host.url(f"/api/{ROUTE}")}
    done = subprocess.run(["bash", "-c", readme_recipe()], env=environment, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    # past the signature check: the recipe's app, finetuned-chat, is not provisioned on this host
    assert "'finetuned-chat' is not known" in json.loads(done.stdout)["error"]["message"], done.stdout
