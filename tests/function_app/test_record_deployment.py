"""The share records what each app serves now, one record per app."""

import json
from pathlib import Path

from activities.record_deployment import record_deployment
from tests.function_app.invoke import user_function

record = user_function(record_deployment)


def entry(app_name: str, version: str) -> dict[str, object]:
    return {
        "app_name": app_name, "endpoint": "http://127.0.0.1:9000", "revision": f"{app_name}--1", "version": version,
        "base_model": "model-cache/local/tiny-chat", "adapter_hash": "a" * 64, "code_hash": "c" * 64,
        "deployed_at": "2026-11-25T20:46:00Z",
    }


def test_deploying_app_b_keeps_app_a_s_record(local_root: Path) -> None:
    first = record({"target": "local", "app_name": "app-a", "record": entry("app-a", "v1")})
    second = record({"target": "local", "app_name": "app-b", "record": entry("app-b", "v2")})
    assert (first, second) == ("serving/apps/app-a/current.json", "serving/apps/app-b/current.json")
    share = local_root / "share"
    assert json.loads((share / first).read_text())["version"] == "v1"
    assert json.loads((share / second).read_text())["version"] == "v2"


def test_a_redeploy_replaces_the_app_s_record(local_root: Path) -> None:
    record({"target": "local", "app_name": "app-a", "record": entry("app-a", "v1")})
    path = record({"target": "local", "app_name": "app-a", "record": entry("app-a", "v2")})
    assert json.loads((local_root / "share" / path).read_text())["version"] == "v2"
