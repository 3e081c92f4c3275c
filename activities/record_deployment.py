"""Activity: write serving/current.json, the share's record of what is deployed now."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import RecordInput
from service_settings import get_settings
from share_layout import paths
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def record_deployment(payload: dict[str, Any]) -> str:
    """Replace serving/current.json atomically; return its share path."""
    step = RecordInput.model_validate(payload)
    share = get_target(step.target, get_settings()).share
    share.write_bytes(paths.CURRENT_RECORD, (step.record.model_dump_json(indent=2) + "\n").encode())
    return paths.CURRENT_RECORD
