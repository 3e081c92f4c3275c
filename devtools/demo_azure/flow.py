"""The demo's steps: simulators up, share seeded, host up; provision, deploy three times, ask; everything stopped."""

import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from devtools.demo_azure.chat import QUESTION, ask
from devtools.demo_azure.environment import host_env, without_other_credentials
from devtools.demo_azure.ftdeploy_cli import Ftdeploy
from devtools.demo_azure.meter import Meter, StepTraffic
from devtools.demo_azure.processes import Child, children, still_running
from devtools.demo_azure.share import BASE_MODEL, retrain_adapter, seed_share
from devtools.demo_azure.simulators import Simulators, running_simulators
from devtools.devhost.process import HostProcess
from service_settings import FUNCTION_APP_ROOT
from targets.azure.arm.template import API_KEY_SECRET
from tests.simulators.azure_files import DEFAULT_ACCOUNT
from tests.simulators.simulated_azure import ENVIRONMENT_NAME, ENVIRONMENT_STORAGE

APP_NAME = "demo-chat"
PROVISION_FIELDS = {"storage_account_name": DEFAULT_ACCOUNT, "environment_name": ENVIRONMENT_NAME,
                    "environment_storage_name": ENVIRONMENT_STORAGE, "base_model_path": BASE_MODEL}
"""Into the fine-tuning resource group: its storage account, share and environment are reused."""


@dataclass(frozen=True)
class DemoResult:
    """What the demo measured, which processes it started, which of them outlived it, and what it kept secret."""

    steps: list[StepTraffic]
    seconds: float
    started: list[Child]
    left_running: list[Child]
    secrets: list[str]


STRATEGY_WORDS = {"restart": "restarted: a new revision", "swap": "swapped in place: same revision, no restart",
                  "blue_green": "blue-green: a new revision took all traffic once ready"}
"""How each deploy reached its version (the deploy's `strategy`), as the demo prints it."""


def _deploy_summary(record: dict[str, Any]) -> str:
    changes = record.get("changes") or {}
    return (f"serving adapter version {record['version']} on revision {record['revision']} "
            f"({STRATEGY_WORDS.get(record.get('strategy') or '', record.get('strategy'))}): "
            f"{len(changes.get('code_copied') or [])} code files copied, "
            f"{len(changes.get('code_deleted') or [])} deleted, "
            f"{changes.get('adapter_files_copied', 0)} adapter files snapshotted")


class Demo:
    """The steps, on simulators and a host already running."""

    def __init__(self, simulators: Simulators, host: HostProcess, root: Path, console: Console) -> None:
        self.simulators = simulators
        self.console = console
        self.cli = Ftdeploy(host, console)
        self.meter = Meter(simulators.arm)
        self.config = root / "inference.config.json"

    def provision(self) -> None:
        """Provision on azure; the outputs (inference.config.json's keys) go to a temporary config file."""
        fields = [arg for name, value in PROVISION_FIELDS.items() for arg in ("--set", f"{name}={value}")]
        with self.meter.step("provision"):
            done = self.cli("provision", "--target", "azure", "--app", APP_NAME, "--config", str(self.config),
                            *fields)
        outputs = done["output"]
        self.console.print(f"Provisioned [bold]{outputs['ACA_APP_ENDPOINT']}[/bold]; outputs written to "
                           f"{done['configFile']}:")
        for name, value in outputs.items():
            self.console.print(f"  {name} = {value}")

    def deploy(self, step: str) -> dict[str, Any]:
        """Deploy the training output to the app (target azure: the config file's subscription is not local)."""
        with self.meter.step(step):
            done = self.cli("deploy", "--config", str(self.config), "--base-model", BASE_MODEL)
        record: dict[str, Any] = done["output"]
        self.console.print(f"[green]{step}[/green]: {_deploy_summary(record)}")
        return record

    def api_key(self) -> str:
        """The app's API key, from its secrets (as `az containerapp secret show` would read it); never printed."""
        return self.simulators.arm.container_apps.record(APP_NAME).secrets()[API_KEY_SECRET]

    def chat(self, record: dict[str, Any]) -> None:
        """Ask the app through its endpoint."""
        model, answer = ask(record["endpoint"], self.api_key())
        self.console.print(f"Q ({model} at {record['endpoint']}/v1): {QUESTION}\nA: {answer}")

    def run(self) -> list[Child]:
        """Every step in order; the processes running at the end (before anything is stopped)."""
        self.provision()
        self.chat(self.deploy("deploy 1: first"))
        self.deploy("deploy 2: nothing changed")
        changed = retrain_adapter(self.simulators.share_dir)
        self.console.print(f"Training wrote new weights to {changed.relative_to(self.simulators.share_dir)}")
        self.chat(self.deploy("deploy 3: adapter retrained"))
        return children()


def run_demo(root: Path, console: Console) -> DemoResult:
    """The whole demo under `root` (a scratch directory); nothing it started is left running, however it ends."""
    began = time.monotonic()
    with ExitStack() as stack:  # leaving it, even on an error or Ctrl-C, stops the host, then the simulators
        stack.enter_context(without_other_credentials())
        simulators = stack.enter_context(running_simulators(root / "azure"))
        console.print(f"Simulators up: identity {simulators.azure.identity.url}, Files {simulators.azure.files.url}, "
                      f"ARM + Container Apps {simulators.arm.url} (test CA in {root / 'azure' / 'ca'})")
        with console.status("Generating the tiny model and its adapter onto the simulated share"):
            seed_share(simulators.share_dir, root / "tiny-model")
        console.print(f"Share seeded: base model and training adapter in {simulators.share_dir}")
        host = HostProcess(FUNCTION_APP_ROOT, root / "devhost", function_key=secrets.token_urlsafe(24),
                           env=host_env(simulators.env, root), startup_timeout=120)
        with console.status("Starting the local Functions host (devhost)"):
            stack.enter_context(host)
        console.print(f"Local Functions host at {host.base_url}")
        demo = Demo(simulators, host, root, console)
        started = demo.run()
        kept = [secret for secret in (host.key, simulators.env["IDENTITY_HEADER"], demo.api_key(),
                                      *simulators.azure.tokens.issued()) if secret]
        console.print(f"Stopping the host, {len(started) - 1} simulated app process(es) and the simulators")
    return DemoResult(demo.meter.steps, time.monotonic() - began, started, still_running(started), kept)
