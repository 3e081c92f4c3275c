"""Activity: create the share's directory layout (idempotent)."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import AppRef
from service_settings import get_settings
from share_layout.paths import SHARE_DIRECTORIES
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def prepare_share(payload: dict[str, Any]) -> list[str]:
    """Make sure every directory of the share layout exists; return them."""
    ref = AppRef.model_validate(payload)
    get_target(ref.target, get_settings()).share.ensure_directories(SHARE_DIRECTORIES)
    return list(SHARE_DIRECTORIES)
