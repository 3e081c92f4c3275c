"""/openapi.json tells the truth: what it declares (read from the app), and schemathesis with all its checks
against a real server on the tiny model, with the API key and without it."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from devtools.tiny_model import TinyModelPaths
from inference_container.app import create_app
from inference_container.settings import Settings
from tests.inference_container.conftest import RunningServer, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
API_KEY, ADMIN_KEY = "openapi-key-1", "openapi-admin-key-2"
SEED = 20260517
MAX_EXAMPLES = 40  # per operation and phase; with the coverage phase about 800 requests in all
RUN_DEADLINE_S = 200  # one schemathesis run; the test timeout is 300 s
GENERATION = ("/v1/chat/completions", "/v1/completions")


def _document(tiny_share: TinyModelPaths, api_key: str | None = None, admin_key: str | None = None
              ) -> dict[str, Any]:
    settings = Settings(model_path=tiny_share.base_dir, adapter_path=tiny_share.adapter_dir,
                        api_key=SecretStr(api_key) if api_key else None,
                        admin_api_key=SecretStr(admin_key) if admin_key else None)
    return create_app(settings).openapi()


def _error_ref(answer: dict[str, Any]) -> str:
    return str(answer["content"]["application/json"]["schema"]["$ref"])


def test_document_declares_every_status_content_type_and_key(tiny_share: TinyModelPaths) -> None:
    """Errors in one model (429/503 with Retry-After), SSE beside JSON, /metrics as text, bearer keys."""
    document = _document(tiny_share, API_KEY, ADMIN_KEY)
    paths, schemas = document["paths"], document["components"]["schemas"]
    for path in GENERATION:
        operation = paths[path]["post"]
        answers = operation["responses"]
        assert set(answers) == {"200", "400", "401", "404", "429", "500", "503"}
        assert {_error_ref(answers[code]) for code in answers if code != "200"} \
            == {"#/components/schemas/ErrorResponse"}
        for code in ("429", "503"):
            assert answers[code]["headers"]["Retry-After"]["required"] is True
        assert set(answers["200"]["content"]) == {"application/json", "text/event-stream"}
        event = answers["200"]["content"]["text/event-stream"]["schema"]
        chunk = event["properties"]["data"]["anyOf"][1]["contentSchema"]["$ref"].rsplit("/", 1)[1]
        assert chunk in schemas and "choices" in schemas[chunk]["properties"]
        assert operation["security"] == [{"apiKey": []}]
        assert all(answer["headers"]["x-adapter-version"]["required"] for answer in answers.values())
    assert paths["/v1/models"]["get"]["security"] == [{"apiKey": []}]
    assert set(paths["/admin/adapter"]["post"]["responses"]) == {"200", "400", "401", "404", "409", "422", "503"}
    assert all(op["security"] == [{"adminKey": []}] for op in paths["/admin/adapter"].values())
    schemes = document["components"]["securitySchemes"]
    assert {name: (s["type"], s["scheme"]) for name, s in schemes.items()} \
        == {"apiKey": ("http", "bearer"), "adminKey": ("http", "bearer")}
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    assert set(paths["/ready"]["get"]["responses"]) == {"200", "503"}
    operations = [op for item in paths.values() for op in item.values()]
    assert not any(p["in"] == "header" and p["name"].lower() == "authorization"
                   for op in operations for p in op.get("parameters", []))
    assert not any("422" in op["responses"] for path, item in paths.items() if path.startswith("/v1")
                   for op in item.values())  # validation errors are 400s here
    assert "HTTPValidationError" not in schemas


def test_without_keys_nothing_asks_for_one(tiny_share: TinyModelPaths) -> None:
    """A server without API_KEY checks no key: no security scheme, no 401 on /v1."""
    document = _document(tiny_share)
    assert "securitySchemes" not in document["components"]
    for path in ("/v1/models", *GENERATION):
        operation = next(iter(document["paths"][path].values()))
        assert "security" not in operation and "401" not in operation["responses"]


def test_bodies_are_checked_as_typed_and_405_names_every_method(tiny_share: TinyModelPaths) -> None:
    """`"stream": 0` is not a boolean (400); `2.0` is an integer, as in JSON Schema; Allow lists GET and POST."""
    settings = Settings(model_path=tiny_share.base_dir, adapter_path=tiny_share.adapter_dir,
                        admin_api_key=SecretStr(ADMIN_KEY))
    client = TestClient(create_app(settings))  # no lifespan: the model is "still loading"
    chat = {"model": "tiny-chat", "messages": [{"role": "user", "content": "hi"}]}
    refused = client.post("/v1/chat/completions", json={**chat, "stream": 0})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "stream"
    refused = client.post("/v1/completions", json={"model": "tiny-chat", "prompt": [1, False]})
    assert refused.status_code == 400 and refused.json()["error"]["param"].startswith("prompt")
    loading = client.post("/v1/chat/completions", json={**chat, "max_tokens": 2.0})
    assert loading.status_code == 503 and loading.headers["retry-after"] == "5"
    options = client.options("/admin/adapter", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert options.status_code == 405 and options.headers["allow"] == "GET, POST"


@pytest.fixture(scope="module")
def keyed_server(tiny_share: TinyModelPaths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with both keys, one torch thread (schemathesis shares the two cores)."""
    running = start_server(tmp_path_factory.mktemp("openapi") / "server.log", tiny_share, API_KEY,
                           ADMIN_API_KEY=ADMIN_KEY, TORCH_THREADS="1")
    yield running
    stop_server(running)


def _schemathesis(server: RunningServer, workdir: Path, config: str, max_examples: int) -> tuple[int, str, str]:
    """Run `st run` with every check; (exit code, output, junit report)."""
    (workdir / "schemathesis.toml").write_text(config)
    junit = workdir / "junit.xml"
    command = [str(Path(sys.executable).parent / "st"), "--config-file", str(workdir / "schemathesis.toml"),
               "run", f"{server.base_url}/openapi.json", "--checks", "all", "--max-examples", str(max_examples),
               "--seed", str(SEED), "--workers", "1", "--no-color", "--generation-database", "none",
               "--report", "junit", "--report-junit-path", str(junit)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.inference_container.openapi_fuzz_hooks"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_DEADLINE_S)
    output = done.stdout + done.stderr
    return done.returncode, output, junit.read_text() if junit.is_file() else ""


def _tested_operations(junit: str) -> set[str]:
    return {str(case.get("name")) for case in ElementTree.fromstring(junit).iter("testcase")}


# Schema-valid swaps name directories that hold no adapter: 422 `adapter_load_failed` is their honest answer.
_SWAP_EXPECTED = """
[[operations]]
include-name = "POST /admin/adapter"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "409", "422", "503"]
"""


@pytest.mark.slow
def test_schemathesis_all_checks_pass_with_the_keys(keyed_server: RunningServer, tmp_path: Path) -> None:
    """Every operation, every check (status codes, content types, schemas, headers, auth, methods) passes."""
    config = (f'[auth.openapi.apiKey]\nbearer = "{API_KEY}"\n[auth.openapi.adminKey]\nbearer = "{ADMIN_KEY}"\n'
              + _SWAP_EXPECTED)
    code, output, junit = _schemathesis(keyed_server, tmp_path, config, MAX_EXAMPLES)
    assert code == 0, output[-12000:]
    assert "unhandled error" not in keyed_server.log()
    assert len(_tested_operations(junit)) == 9, junit
    assert "Test cases:" in output and " generated" in output


@pytest.mark.slow
def test_schemathesis_without_a_key_every_401_is_documented(keyed_server: RunningServer, tmp_path: Path) -> None:
    """With no key at all every /v1 and /admin answer is a 401, and the document declares each of them."""
    code, output, junit = _schemathesis(keyed_server, tmp_path, _SWAP_EXPECTED, 10)
    assert code == 0, output[-12000:]
    assert len(_tested_operations(junit)) == 9, junit
