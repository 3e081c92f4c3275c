"""What each subcommand does: build the request body, send it, follow the orchestration, print the result."""

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftdeploy import config_file, render
from ftdeploy.client import ApiError, ServiceClient
from ftdeploy.errors import CliError, Exit
from ftdeploy.output import Output
from ftdeploy.waiting import completed_output, follow, started_id

ADAPTER_VERSIONS = "serving/adapters"
"""Where the share keeps each deployed adapter version (the share layout): a rollback deploys from there."""
FAILED_ENDS = frozenset({"Failed", "Terminated", "Canceled"})


@dataclass
class Context:
    """What every command gets: its arguments, the API client and the output streams."""

    args: argparse.Namespace
    client: ServiceClient
    output: Output


def extra_fields(pairs: list[str] | None) -> dict[str, Any]:
    """`--set key=value` pairs as body fields; a value that parses as JSON (8080, true, null) is sent as that."""
    fields: dict[str, Any] = {}
    for pair in pairs or []:
        key, separator, text = pair.partition("=")
        if not separator or not key.strip():
            raise CliError(f"--set wants key=value, got {pair!r}", Exit.USAGE)
        try:
            fields[key.strip()] = json.loads(text)
        except ValueError:
            fields[key.strip()] = text
    return fields


def body_of(given: dict[str, Any], pairs: list[str] | None) -> dict[str, Any]:
    """The fields that were given (None means 'let the service choose'), then the --set ones."""
    return {key: value for key, value in given.items() if value is not None} | extra_fields(pairs)


def start(ctx: Context, route: str, body: dict[str, Any] | None = None, *, content: bytes | None = None,
          headers: dict[str, str] | None = None) -> str | None:
    """POST a request that starts an orchestration; its id, or None after --no-wait reported it."""
    answer = ctx.client.post(route, body, content=content, headers=headers)
    instance_id = started_id(answer.body, route)
    if getattr(ctx.args, "no_wait", False):
        ctx.output.result(f"Started {instance_id}; follow it with: ftdeploy status {instance_id} --wait")
        ctx.output.data({"id": instance_id, "statusUrl": ctx.client.status_url(instance_id)})
        return None
    ctx.output.note(f"Started {instance_id}; Ctrl-C stops waiting without cancelling it")
    return instance_id


def provision(ctx: Context) -> Exit:
    """POST /api/provision, wait, write the outputs to the config file."""
    args = ctx.args
    body = body_of({"target": args.target, "app_name": args.app, "port": args.port, "location": args.location,
                    "resource_group": args.resource_group, "subscription_id": args.subscription,
                    "gpu_profile_type": args.gpu_profile}, args.set)
    instance_id = start(ctx, "provision", body)
    if instance_id is None:
        return Exit.OK
    final = follow(ctx.client, ctx.output, instance_id)
    outputs = completed_output(final, "provision")
    config_file.write_config(args.config, outputs)
    for line in render.provision_summary(outputs, str(args.config)):
        ctx.output.result(line)
    ctx.output.data({**final, "configFile": str(args.config)})
    return Exit.OK


def serving_base_model(ctx: Context, app: str) -> str | None:
    """The base model of the app's newest successful deploy (its history), or None when it has none."""
    try:
        body = ctx.client.get(f"apps/{app}/deployments").body
    except ApiError as error:
        if error.status == 404:  # an app with no deploys, or a service without the route
            return None
        raise
    for row in render.rows_of(body, "deployments"):
        if row.get("result") == "succeeded" and row.get("base_model"):
            return str(row["base_model"])
    return None


def app_and_target(ctx: Context) -> tuple[str | None, str | None]:
    """--app and --target, else what the config file names (None: the service's default app)."""
    args = ctx.args
    config = config_file.read_config(args.config) if args.app is None or args.target is None else None
    app = args.app or (config_file.app_of(config, args.config) if config is not None else None)
    same_app = config is not None and config.get("ACA_APP_NAME") == app
    return app, args.target or (config_file.target_of(config) if same_app and config is not None else None)


def follow_deploy(ctx: Context, instance_id: str) -> Exit:
    """Wait for a deploy request to end (following a superseding one), print its summary; raises on failure."""
    final = follow(ctx.client, ctx.output, instance_id)
    outputs = completed_output(final, "deploy")
    for line in render.deploy_summary(outputs if isinstance(outputs, dict) else {}):
        ctx.output.result(line)
    ctx.output.data(final)
    return Exit.OK


def send_deploy(ctx: Context, body: dict[str, Any], app: str | None) -> Exit:
    """POST /api/deploy (base_model from the app's current deployment when not given), wait, print the result."""
    if body.get("base_model") is None:
        body["base_model"] = serving_base_model(ctx, app or "finetuned-chat")
    if body["base_model"] is None:
        raise CliError("pass --base-model (e.g. model-cache/<org>/<model>): the app serves no model yet", Exit.USAGE)
    try:
        instance_id = start(ctx, "deploy", {key: value for key, value in body.items() if value is not None})
    except ApiError as error:
        if error.status == 409 and error.instance_id:
            error.message += f" (`ftdeploy status {error.instance_id} --wait` follows it)"
        raise
    if instance_id is None:
        return Exit.OK
    return follow_deploy(ctx, instance_id)


def deploy(ctx: Context) -> Exit:
    """POST /api/deploy for the app named by --app or the config file."""
    args = ctx.args
    app, target = app_and_target(ctx)
    body = body_of({"target": target, "app_name": app, "base_model": args.base_model, "adapter_source": args.adapter,
                    "version": args.version, "readiness_timeout_s": args.timeout}, args.set)
    body.setdefault("base_model", None)
    return send_deploy(ctx, body, app)


def rollback(ctx: Context) -> Exit:
    """Deploy an existing adapter version again: the adapter source is that version's own folder on the share."""
    args = ctx.args
    body = body_of({"target": args.target, "app_name": args.app, "version": args.version,
                    "adapter_source": f"{ADAPTER_VERSIONS}/{args.version}", "base_model": args.base_model,
                    "readiness_timeout_s": args.timeout}, None)
    body.setdefault("base_model", None)
    try:
        return send_deploy(ctx, body, args.app)
    except ApiError as error:
        if error.status == 400 and any(field.get("field") == "adapter_source" for field in error.fields):
            raise CliError(f"there is no adapter version {args.version!r} to roll back to (no "
                           f"{ADAPTER_VERSIONS}/{args.version} on the share): `ftdeploy deployments {args.app}` "
                           "lists the versions deployed before", Exit.USAGE) from None
        raise


def status(ctx: Context) -> Exit:
    """GET /api/status/<id> (and with --wait, follow it to the end); exit 1 when it failed."""
    args = ctx.args
    current = dict(ctx.client.get(f"status/{args.id}").body or {})
    if args.wait:
        current = follow(ctx.client, ctx.output, args.id)
    for line in render.status_summary(current):
        ctx.output.result(line)
    output = current.get("output")
    if args.config is not None and current.get("runtimeStatus") == "Completed" and isinstance(output, dict) \
            and "ACA_APP_NAME" in output:
        config_file.write_config(args.config, output)
        ctx.output.result(f"Wrote {args.config}")
    ctx.output.data(current)
    return Exit.FAILED if current.get("runtimeStatus") in FAILED_ENDS else Exit.OK


def listing(ctx: Context, path: str, names: tuple[str, ...], columns: tuple[str, ...], empty: str) -> Exit:
    """GET a list and print it as a table (or the answer as it is, with --json)."""
    body = ctx.client.get(path).body
    rows = render.rows_of(body, *names)
    if rows:
        ctx.output.table(render.table(rows, columns, ctx.output.redact))
    else:
        ctx.output.result(empty)
    ctx.output.data(body)
    return Exit.OK


def apps(ctx: Context) -> Exit:
    """GET /api/apps."""
    return listing(ctx, "apps", ("apps",), render.APP_COLUMNS, "No apps registered.")


def deployments(ctx: Context) -> Exit:
    """GET /api/apps/<app>/deployments."""
    return listing(ctx, f"apps/{ctx.args.app}/deployments", ("deployments",), render.DEPLOYMENT_COLUMNS,
                   f"No deployments of {ctx.args.app} yet.")


def register(ctx: Context) -> Exit:
    """POST /api/apps with a hand-filled inference.config.json."""
    path: Path = ctx.args.config
    config = config_file.read_config(path)
    if config is None:
        raise CliError(f"no config file at {path}: pass --config", Exit.USAGE)
    config_file.app_of(config, path)
    target = ctx.args.target or config_file.target_of(config)
    body = body_of({**{key: config.get(key) for key in config_file.KEYS}, "target": target}, ctx.args.set)
    answer = ctx.client.post("apps", body)
    ctx.output.result(f"Registered {config.get('ACA_APP_NAME')} ({answer.status})")
    ctx.output.data(answer.body)
    return Exit.OK
