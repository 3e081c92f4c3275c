"""Generate the tiny model into a local share, start the local host, provision, deploy, ask the endpoint."""

import argparse
import secrets
import time
from pathlib import Path

from openai import OpenAI

from devtools.demo.api_client import FunctionAppClient
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
            api = FunctionAppClient(host.base_url, host.key)
            print("POST /api/provision")
            outputs = api.run("provision", {"app_name": APP_NAME})
            print("POST /api/deploy")
            record = api.run("deploy", {"app_name": APP_NAME, "base_model": BASE_SUBDIR.as_posix()})
            api.close()
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
