"""Where things live on the share; the same for the Azure share and the local directory."""

from pathlib import PurePosixPath

MODEL_CACHE = "model-cache"
TRAINING_ADAPTER = "models/qlora/qlora/gpu_model/adapter"
INFERENCE_CODE = "inference"
INFERENCE_PACKAGE = "inference/inference_container"
ADAPTER_VERSIONS = "serving/adapters"
MERGED_CACHE = "serving/merged"
CURRENT_RECORD = "serving/current.json"
SNAPSHOT_MANIFEST = "manifest.json"

SHARE_DIRECTORIES = (MODEL_CACHE, "models", INFERENCE_CODE, ADAPTER_VERSIONS, MERGED_CACHE)


def adapter_version_dir(version: str) -> str:
    """The immutable directory holding one deployed adapter version."""
    return str(PurePosixPath(ADAPTER_VERSIONS) / version)


def join(*parts: str) -> str:
    """Join share path parts with forward slashes."""
    return str(PurePosixPath(*parts))
