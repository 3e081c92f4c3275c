"""Activity: copy the inference server's code to the share, incrementally (unchanged files are skipped)."""

from typing import Any

import azure.durable_functions as df

from payloads.steps import DeployRef, SyncResult
from service_settings import FUNCTION_APP_ROOT, get_settings
from share_layout import paths
from share_layout.manifest import diff, digest, manifest_of_directory
from targets import get_target

bp = df.Blueprint()

SERVER_SOURCE = FUNCTION_APP_ROOT / "inference_container"


@bp.activity_trigger(input_name="payload")
def sync_share(payload: dict[str, Any]) -> dict[str, Any]:
    """Make inference/inference_container on the share equal the packaged server code."""
    ref = DeployRef.model_validate(payload)
    share = get_target(ref.target, get_settings(), ref.azure).share
    source = manifest_of_directory(SERVER_SOURCE)
    if "__main__.py" not in source:
        raise FileNotFoundError(f"inference server code missing at {SERVER_SOURCE}: the deployment package is broken")
    changes = diff(source, share.list_files(paths.INFERENCE_PACKAGE))
    for relative in changes.to_copy:
        share.write_bytes(paths.join(paths.INFERENCE_PACKAGE, relative), (SERVER_SOURCE / relative).read_bytes())
    for relative in changes.to_delete:
        share.delete_file(paths.join(paths.INFERENCE_PACKAGE, relative))
    result = SyncResult(
        copied=changes.to_copy, deleted=changes.to_delete, unchanged=changes.unchanged, code_hash=digest(source),
        bytes_copied=sum((SERVER_SOURCE / relative).stat().st_size for relative in changes.to_copy),
    )
    return result.model_dump(mode="json")
