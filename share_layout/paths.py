"""Where things live on the share; the same for the Azure share and the local directory."""

from pathlib import PurePosixPath

MODEL_CACHE = "model-cache"
TRAINING_ADAPTER = "models/qlora/qlora/gpu_model/adapter"
INFERENCE_CODE = "inference"
INFERENCE_PACKAGE = "inference/inference_container"
ADAPTER_VERSIONS = "serving/adapters"
MERGED_CACHE = "serving/merged"
SNAPSHOT_STAGING = "serving/staging"
APP_RECORDS = "serving/apps"
CURRENT_RECORD_FILE = "current.json"
SNAPSHOT_MANIFEST = "manifest.json"

SHARE_DIRECTORIES = (MODEL_CACHE, "models", INFERENCE_CODE, ADAPTER_VERSIONS, MERGED_CACHE)


def adapter_version_dir(version: str) -> str:
    """The immutable directory holding one deployed adapter version."""
    return str(PurePosixPath(ADAPTER_VERSIONS) / version)


def snapshot_staging_dir(version: str, token: str) -> str:
    """Where one attempt at snapshotting `version` is written before it is renamed into place."""
    return str(PurePosixPath(SNAPSHOT_STAGING) / f"{version}-{token}")


def current_record(app_name: str) -> str:
    """The record of what serves now for one app: several apps may share one share."""
    return str(PurePosixPath(APP_RECORDS) / app_name / CURRENT_RECORD_FILE)


def join(*parts: str) -> str:
    """Join share path parts with forward slashes."""
    return str(PurePosixPath(*parts))
