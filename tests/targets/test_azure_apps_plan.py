"""Revision planning: which template a deploy asks for, and the revision suffix that names it."""

import re
from typing import Any

import pytest

from share_layout import paths
from targets.azure.revision_plan import (
    MAX_REVISION_NAME,
    endpoint_of,
    free_suffix,
    is_of_stem,
    serving_containers,
    serving_inputs,
    suffix_stem,
)
from tests.simulators.container_apps.inference_app import inference_app_body

ACA_SUFFIX = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$")
"""What Container Apps accepts: lower-case letters, digits, single hyphens; a letter first, no hyphen last."""
BASE_MODEL = "model-cache/microsoft/Phi-3-mini-4k-instruct"


def template() -> dict[str, Any]:
    body = inference_app_body("aiacaapp1a2b3", "secret", "/env", "aienvstorage", BASE_MODEL, paths.TRAINING_ADAPTER)
    return dict(body["properties"]["template"])


def stem(version: str = "v1", app: str = "aiacaapp1a2b3", image: str | None = None, code: str = "c0de") -> str:
    return suffix_stem(app, version, serving_inputs(template(), BASE_MODEL, version, image, code))


def test_the_server_container_gets_model_and_adapter_paths_and_keeps_everything_else() -> None:
    inputs = serving_inputs(template(), BASE_MODEL, "v7", None, "c0de")
    (container,) = serving_containers(template(), inputs)
    env = {variable["name"]: variable.get("value", variable.get("secretRef")) for variable in container["env"]}
    assert env["MODEL_PATH"] == f"/mount/{BASE_MODEL}" and env["ADAPTER_PATH"] == "/mount/serving/adapters/v7"
    assert env["API_KEY"] == "api-key" and env["MERGED_CACHE_DIR"] == "/mount/serving/merged"
    assert container["image"] == "myregistry.azurecr.io/finetune-inference:1" and len(container["probes"]) == 3


def test_the_suffix_is_deterministic_and_changes_with_each_input() -> None:
    assert stem() == stem()
    others = {stem(version="v2"), stem(image="myregistry.azurecr.io/finetune-inference:2"), stem(code="beef")}
    assert stem() not in others and len(others) == 3


@pytest.mark.parametrize("version", ["v1", "2024.06.01", "Run_17--final", "-x-", "A" * 64])
def test_suffixes_are_valid_revision_names_even_for_the_longest_app_name(version: str) -> None:
    app = "a" * 32  # Container Apps' longest app name
    suffix = free_suffix(app, stem(version, app), {f"{app}--{stem(version, app)}"})
    assert ACA_SUFFIX.match(suffix) and len(f"{app}--{suffix}") <= MAX_REVISION_NAME


def test_a_rollback_to_earlier_inputs_takes_the_next_free_counter() -> None:
    first = stem()
    assert free_suffix("app", first, {"app--other"}) == first
    assert free_suffix("app", first, {f"app--{first}", f"app--{first}-2"}) == f"{first}-3"
    assert is_of_stem(first, first) and is_of_stem(f"{first}-3", first)
    assert not is_of_stem(f"{first}-x", first) and not is_of_stem(None, first) and not is_of_stem("", first)


def test_a_template_without_the_share_mounted_is_a_clear_error() -> None:
    unmounted = {**template(), "volumes": []}
    with pytest.raises(ValueError, match="mounts no Azure Files share"):
        serving_inputs(unmounted, BASE_MODEL, "v1", None, "c0de")


def test_the_endpoint_is_https_on_the_fqdn_unless_it_carries_a_scheme() -> None:
    assert endpoint_of("app.blue-sea-123.eastus.azurecontainerapps.io") == (
        "https://app.blue-sea-123.eastus.azurecontainerapps.io")
    assert endpoint_of("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
