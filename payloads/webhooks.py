"""The body of POST /api/webhooks/training-complete: a training run says where its adapter is.

Strict like every request body here (payloads.requests.StrictBody): unknown fields refused, no type coercion,
bounded strings, share-relative paths without '..'.
"""

import hashlib

from pydantic import Field, field_validator

from payloads.requests import APP_NAME_PATTERN, MAX_PATH_CHARS, StrictBody, share_relative

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$"


def body_sha256(raw: bytes) -> str:
    """The SHA-256 hex of a webhook's raw body: a retry of a delivery sends the very same bytes."""
    return hashlib.sha256(raw).hexdigest()


class TrainingComplete(StrictBody):
    """A training run finished: deploy the adapter it wrote to the app."""

    app_name: str = Field(max_length=32, pattern=APP_NAME_PATTERN, description="The app to redeploy.")
    adapter_path: str = Field(
        max_length=MAX_PATH_CHARS,
        description="The training output inside the share, e.g. models/qlora/qlora/gpu_model/adapter.",
    )
    base_model: str | None = Field(
        default=None,
        max_length=MAX_PATH_CHARS,
        description="Base model directory inside the share; default: the one the app serves now.",
    )
    run_id: str | None = Field(
        default=None, pattern=RUN_ID_PATTERN, description="The training run's own id, kept with the deploy's trigger."
    )

    @field_validator("adapter_path")
    @classmethod
    def _adapter_inside_share(cls, value: str) -> str:
        return share_relative(value)

    @field_validator("base_model")
    @classmethod
    def _base_model_inside_share(cls, value: str | None) -> str | None:
        return None if value is None else share_relative(value)
