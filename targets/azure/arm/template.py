"""The committed template and its parameter file, as the function app ships them."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from service_settings import FUNCTION_APP_ROOT

TEMPLATE_PATH = FUNCTION_APP_ROOT / "infra" / "provision" / "inference.json"
PARAMETERS_PATH = FUNCTION_APP_ROOT / "infra" / "provision" / "inference.parameters.json"
SECURE_TYPES = frozenset({"securestring", "secureobject"})
API_KEY_PARAMETER = "apiKey"
API_KEY_SECRET = "api-key"
"""The container-app secret the template stores apiKey in (the server's API_KEY comes from it)."""
ADMIN_KEY_PARAMETER = "adminKey"
ADMIN_KEY_SECRET = "admin-key"
"""The container-app secret the template stores adminKey in (the server's ADMIN_API_KEY, its admin route's key)."""


def _read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


@lru_cache(maxsize=1)
def template() -> dict[str, Any]:
    """infra/provision/inference.json, sent as the deployment's `properties.template`."""
    return _read_json(TEMPLATE_PATH)


def declared_parameters() -> dict[str, dict[str, Any]]:
    """The template's parameter declarations by name."""
    return dict(template()["parameters"])


def secure_parameters() -> frozenset[str]:
    """Parameters ARM never echoes back (apiKey): never in an orchestration input, output or log."""
    return frozenset(name for name, spec in declared_parameters().items()
                     if str(spec.get("type", "")).lower() in SECURE_TYPES)


def allowed_values(name: str) -> list[Any]:
    """A parameter's allowed values ([] when any value of its type is allowed)."""
    return list(declared_parameters()[name].get("allowedValues", []))


@lru_cache(maxsize=1)
def parameter_file_values() -> dict[str, Any]:
    """The parameter file's values, without null entries (the template's defaults apply) and secure ones."""
    entries = _read_json(PARAMETERS_PATH)["parameters"]
    secure = secure_parameters()
    return {name: entry["value"] for name, entry in entries.items()
            if isinstance(entry, dict) and entry.get("value") is not None and name not in secure}
