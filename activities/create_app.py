"""Activity: create (or update) the container app and report the inference.config.json outputs."""

from typing import Any

import azure.durable_functions as df

from payloads.requests import ProvisionRequest
from service_settings import get_settings
from targets import get_target

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def create_app(payload: dict[str, Any]) -> dict[str, Any]:
    """Create the app on the request's target; return its provision outputs."""
    request = ProvisionRequest.model_validate(payload)
    target = get_target(request.target, get_settings())
    return target.apps.create_app(request.app_name, request.port).model_dump(mode="json")
