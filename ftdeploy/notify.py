"""`ftdeploy notify`: send the signed training-complete webhook a training run would send, then follow the deploy."""

import json
import os
from pathlib import Path

from ftdeploy.commands import Context, body_of, follow_deploy, start
from ftdeploy.errors import CliError, Exit
from ftdeploy.webhook import signed_headers

SECRET_ENV = "FTDEPLOY_WEBHOOK_SECRET"
ROUTE = "webhooks/training-complete"


def read_secret(secret_file: Path | None) -> tuple[str, str]:
    """The webhook secret and where it came from (--secret-file, else the environment); never printed."""
    if secret_file is not None:
        try:
            secret = secret_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CliError(f"cannot read the webhook secret file {secret_file}: {error.strerror}", Exit.USAGE) from None
        return secret, str(secret_file)
    secret = os.environ.get(SECRET_ENV, "").strip()
    if not secret:
        raise CliError(f"no webhook secret: set {SECRET_ENV} or pass --secret-file", Exit.USAGE)
    return secret, SECRET_ENV


def notify(ctx: Context) -> Exit:
    """POST the signed webhook body; follow the deploy it starts unless --no-wait."""
    args = ctx.args
    secret, source = read_secret(args.secret_file)
    ctx.output.hide(secret)
    fields = body_of({"app_name": args.app, "adapter_path": args.adapter_path, "base_model": args.base_model,
                      "run_id": args.run_id}, None)
    body = json.dumps(fields, separators=(",", ":")).encode()
    instance_id = start(ctx, ROUTE, content=body, headers=signed_headers(secret, source, body))
    if instance_id is None:
        return Exit.OK
    return follow_deploy(ctx, instance_id)
