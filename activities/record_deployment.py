"""Activity: write serving/apps/<app>/current.json, the share's record of what one app serves now."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import RecordInput
from service_settings import get_settings
from share_layout import paths
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def record_deployment(payload: dict[str, Any]) -> str:
    """Replace the app's record atomically (other apps' records stay); return its share path."""
    step = RecordInput.model_validate(payload)
    share = get_target(step.target, get_settings(), step.azure).share
    record_path = paths.current_record(step.app_name)
    share.write_bytes(record_path, (step.record.model_dump_json(indent=2) + "\n").encode())
    return record_path
