"""`ftdeploy`: arguments, the global options (--url, --key, --json, also accepted after the subcommand), exit codes."""

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ftdeploy import commands, notify
from ftdeploy.client import ServiceClient
from ftdeploy.config_file import DEFAULT_PATH
from ftdeploy.errors import CliError, Exit
from ftdeploy.output import Output

DEFAULT_URL = "http://localhost:7071"
URL_ENV, KEY_ENV = "FTDEPLOY_URL", "FTDEPLOY_KEY"
TARGETS = ("local", "azure")
EPILOG = ("exit status: 0 done, 1 the orchestration failed or was terminated, 2 bad usage or the service refused "
          "the request (4xx), 3 the service could not be reached, 4 the service failed (5xx), 130 Ctrl-C (the "
          "orchestration goes on)")

Handler = Callable[[commands.Context], Exit]


def global_options() -> argparse.ArgumentParser:
    """--url, --key, --json: SUPPRESS defaults, so the same options after the subcommand do not reset them."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--url", default=argparse.SUPPRESS,
                         help=f"the service's base URL (env {URL_ENV}; default {DEFAULT_URL})")
    options.add_argument("--key", default=argparse.SUPPRESS,
                         help=f"the function key (env {KEY_ENV}, which keeps it out of the process list)")
    options.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                         help="print one JSON document on stdout (progress and errors stay on stderr)")
    return options


CONFIG_HELP = f"inference.config.json path (default {DEFAULT_PATH})"
Adder = Callable[[str, Handler, str], argparse.ArgumentParser]


def add_common(parser: argparse.ArgumentParser, *names: str) -> None:
    """Options several commands share, by name: --set, --config, --no-wait."""
    if "set" in names:
        parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other body field (JSON or text)")
    if "config" in names:
        parser.add_argument("--config", type=Path, default=DEFAULT_PATH, help=CONFIG_HELP)
    if "no-wait" in names:
        parser.add_argument("--no-wait", action="store_true", help="print the request id and return at once")


def add_deploy_options(parser: argparse.ArgumentParser) -> None:
    """Options every deploy-like command has."""
    parser.add_argument("--target", choices=TARGETS, help="default: the config file's, else the service's (local)")
    parser.add_argument("--base-model", help="base model folder on the share (default: what the app serves now)")
    parser.add_argument("--timeout", type=int, metavar="SECONDS", help="readiness deadline of the new revision")
    add_common(parser, "no-wait")


def add_provision(command: Adder) -> None:
    """`ftdeploy provision`."""
    cmd = command("provision", commands.provision, "create the share layout and the container app; write the config")
    cmd.add_argument("--target", choices=TARGETS)
    cmd.add_argument("--app", "--app-name", dest="app", help="container app name (default: the service's)")
    cmd.add_argument("--port", type=int, help="local target: the port to serve on")
    cmd.add_argument("--location", help="azure: region")
    cmd.add_argument("--resource-group", help="azure: resource group")
    cmd.add_argument("--subscription", help="azure: subscription id")
    cmd.add_argument("--gpu-profile", help="azure: Container Apps GPU workload profile type")
    add_common(cmd, "set", "config", "no-wait")


def add_deploys(command: Adder) -> None:
    """`ftdeploy deploy`, `rollback` and `notify` (which deploys what a training run wrote)."""
    cmd = command("deploy", commands.deploy, "deploy the adapter (a new version from the training output)")
    cmd.add_argument("--app", "--app-name", dest="app", help="default: ACA_APP_NAME of the config file")
    cmd.add_argument("--adapter", help="adapter folder on the share (default: the training output)")
    cmd.add_argument("--version", help="version name; an existing one is redeployed as it is (a rollback)")
    add_common(cmd, "set", "config")
    add_deploy_options(cmd)
    cmd = command("rollback", commands.rollback, "serve an adapter version deployed before")
    cmd.add_argument("app")
    cmd.add_argument("version")
    add_deploy_options(cmd)
    cmd = command("notify", notify.notify, "send a signed training-complete webhook (as a training run would)")
    cmd.add_argument("--app", required=True)
    cmd.add_argument("--adapter-path", required=True, help="the training output on the share")
    cmd.add_argument("--base-model")
    cmd.add_argument("--run-id")
    cmd.add_argument("--secret-file", type=Path, help=f"file holding whsec_... (default: env {notify.SECRET_ENV})")
    add_common(cmd, "no-wait")


def add_queries(command: Adder) -> None:
    """`ftdeploy status`, `apps`, `deployments` and `register`."""
    cmd = command("status", commands.status, "where a request stands (exit 1 if it failed)")
    cmd.add_argument("id")
    cmd.add_argument("--wait", action="store_true", help="follow it to the end with a progress display")
    cmd.add_argument("--config", type=Path, help="a completed provision: write its outputs to this config file")
    command("apps", commands.apps, "the registered apps and what each serves")
    cmd = command("deployments", commands.deployments, "an app's deployment history")
    cmd.add_argument("app")
    cmd = command("register", commands.register, "register an app provisioned by hand, from its config file")
    cmd.add_argument("--target", choices=TARGETS)
    add_common(cmd, "set", "config")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    options = global_options()
    parser = argparse.ArgumentParser(prog="ftdeploy", parents=[options], epilog=EPILOG,
                                     description="Provision an inference app and deploy LoRA adapters to it.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
        found = sub.add_parser(name, parents=[options], help=text, description=text, epilog=EPILOG)
        found.set_defaults(handler=handler)
        return found

    add_provision(command)
    add_deploys(command)
    add_queries(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status says how it ended (see EPILOG)."""
    args = build_parser().parse_args(argv)
    key = getattr(args, "key", None) or os.environ.get(KEY_ENV) or None
    url = getattr(args, "url", None) or os.environ.get(URL_ENV) or DEFAULT_URL
    output = Output(as_json=getattr(args, "json", False), secrets=(key,))
    client = ServiceClient(url, key)
    try:
        return int(args.handler(commands.Context(args, client, output)))
    except CliError as error:
        output.error(error.message)
        output.data({"error": {"message": error.message, "exitCode": int(error.code)}})
        return int(error.code)
    except KeyboardInterrupt:
        output.error("interrupted: a request sent may still have started; `ftdeploy apps` shows what serves")
        return int(Exit.INTERRUPTED)
    finally:
        client.close()
