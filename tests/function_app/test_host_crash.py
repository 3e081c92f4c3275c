"""A local host killed mid-deploy picks the deploy up where it was when started again."""

from pathlib import Path

import pytest
from openai import OpenAI

from targets.local.app_files import AppFiles
from targets.local.process_control import stop_all
from tests.function_app.host import local_host, run, start, wait_for, wait_for_step

pytestmark = pytest.mark.slow  # starts, kills and restarts a devhost process


def test_sigkill_while_waiting_for_readiness_then_restart_completes_the_deploy(tiny_share, tmp_path: Path) -> None:
    host = local_host(tiny_share, tmp_path, "k")
    try:
        with host:
            assert run(host, "provision", {"app_name": "crashy"})["runtimeStatus"] == "Completed"
            reply = start(host, "deploy", {"app_name": "crashy", "base_model": "model-cache/local/tiny-chat"})
            instance_id = reply.json()["id"]
            wait_for_step(host, instance_id, "wait_ready")
            host.kill()
            assert not host.running
            host.start()
            result = wait_for(host, instance_id)
        assert result["runtimeStatus"] == "Completed", result
        record = result["output"]
        assert record["revision"] == "crashy--1"  # the restart step that had finished was not run again
        api_key = AppFiles(tmp_path / "apps" / "crashy").ensure_api_key()
        client = OpenAI(base_url=f"{record['endpoint']}/v1", api_key=api_key)
        reply_text = client.completions.create(model=record["version"], prompt="Hello", max_tokens=3, temperature=0,
                                              extra_body={"ignore_eos": True}).choices[0].text
        assert reply_text
    finally:
        host.stop()
        stop_all(tmp_path / "apps")
