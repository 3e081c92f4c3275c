"""Generate the tiny model into a local share, start the local host, provision, deploy, ask the endpoint."""

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from openai import OpenAI

from devtools.devhost.process import HostProcess
from devtools.tiny_model import build
from devtools.tiny_model.build import BASE_SUBDIR
from service_settings import FUNCTION_APP_ROOT
from targets.local.app_files import AppFiles
from targets.local.process_control import stop_all

APP_NAME = "demo-chat"
QUESTION = "Hello! What can you tell me about the fine-tuned adapter?"


def ask(endpoint: str, api_key: str) -> str:
    """One chat completion through the official openai client."""
    client = OpenAI(base_url=f"{endpoint}/v1", api_key=api_key)
    adapter = next(model.id for model in client.models.list() if getattr(model, "parent", None))
    print(f"Asking the adapter model {adapter!r} (parent: the base model)")
    reply = client.chat.completions.create(
        model=adapter, messages=[{"role": "user", "content": QUESTION}], max_tokens=32, temperature=0
    )
    return reply.choices[0].message.content or ""


def ftdeploy(host: HostProcess, *args: str) -> Any:
    """Run the `ftdeploy` command line with --json: its progress shows on stderr, its result is returned."""
    print(f"$ ftdeploy {' '.join(args)}")
    env = {**os.environ, "FTDEPLOY_URL": host.base_url, "FTDEPLOY_KEY": host.key or ""}
    done = subprocess.run([sys.executable, "-m", "ftdeploy", *args, "--json"], cwd=FUNCTION_APP_ROOT, env=env,
                          stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ftdeploy {args[0]} failed (exit {done.returncode}); its error is above")
    return json.loads(done.stdout)


def run(root: Path) -> None:
    """The demo, leaving nothing running whatever happens."""
    started = time.monotonic()
    share = root / "share"
    if not (share / BASE_SUBDIR / "config.json").exists():
        print(f"Generating the tiny model and its LoRA adapter into {share}")
        build(share)
    env = {"LOCAL_TARGET_ROOT": str(root), "READINESS_POLL_SECONDS": "1"}
    host = HostProcess(FUNCTION_APP_ROOT, root / "devhost", function_key=secrets.token_urlsafe(16), env=env)
    try:
        with host:
            print(f"Local Functions host at {host.base_url}")
            config = str(root / "inference.config.json")
            outputs = ftdeploy(host, "provision", "--app", APP_NAME, "--config", config)["output"]
            record = ftdeploy(host, "deploy", "--config", config, "--base-model", BASE_SUBDIR.as_posix())["output"]
            api_key = AppFiles(root / "apps" / APP_NAME).ensure_api_key()
            print(f"\nQ: {QUESTION}\nA: {ask(record['endpoint'], api_key)}")
            print(f"\nEndpoint: {outputs['ACA_APP_ENDPOINT']}/v1  (adapter version {record['version']}, "
                  f"revision {record['revision']})")
    finally:
        stopped = stop_all(root / "apps")
        print(f"Stopped: local host{', ' + ', '.join(stopped) if stopped else ''}")
    print(f"Demo finished in {time.monotonic() - started:.1f} s (after imports)")


def main() -> None:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=FUNCTION_APP_ROOT / ".local" / "demo", help="local target root")
    run(parser.parse_args().root.resolve())


if __name__ == "__main__":
    main()
