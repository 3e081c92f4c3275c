"""A re-provision of an existing app: the parameters it adds render the app's revision template as a deploy left it
(so Container Apps starts no revision), and a change the request asks for still makes a new revision."""

import copy
from typing import Any

from targets.azure.arm.carry_over import REVISION_TAG, carried_parameters, template_env_names
from targets.azure.arm.template import parameter_file_values, template
from targets.azure.revision_plan import serving_containers, serving_inputs, suffix_stem
from tests.infra.arm_template import Evaluator

APP = "chat"
FIRST = {**parameter_file_values(), "containerImage": "cr.example.io/inference:1", "acaAppName": APP,
         "resourceSuffix": "abcde"}
"""A plan as the HTTP trigger makes it (the suffix given: the evaluator has no resource group)."""


def rendered(parameters: dict[str, Any]) -> dict[str, Any]:
    """The container app as the template writes it: its tags and its revision template."""
    (app,) = [r for r in template()["resources"] if r["type"] == "Microsoft.App/containerApps"]
    evaluator = Evaluator(template(), {**parameters, "apiKey": "k", "adminKey": "a"})
    return {"tags": evaluator.value(app["tags"]),
            "properties": {"template": evaluator.value(app["properties"]["template"])}}


def provisioned(plan: dict[str, Any], app: dict[str, Any] | None = None,
                requested: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a provision of `plan` writes, the app being as `app` (None: a new app)."""
    return rendered({**plan, **carried_parameters(app, plan, requested)})


def deployed(app: dict[str, Any], version: str, base_model: str, image: str | None = None) -> dict[str, Any]:
    """The app after a deploy's PATCH (revision_plan: full containers array and a deterministic suffix)."""
    after = copy.deepcopy(app)
    revision = after["properties"]["template"]
    inputs = serving_inputs(revision, base_model, version, image, "0123abcd")
    revision["containers"] = serving_containers(revision, inputs)
    revision["revisionSuffix"] = suffix_stem(APP, version, inputs)
    return after


def server(app: dict[str, Any]) -> dict[str, Any]:
    return dict(app["properties"]["template"]["containers"][0])


def env(app: dict[str, Any]) -> dict[str, str]:
    return {entry["name"]: entry.get("value", entry.get("secretRef")) for entry in server(app)["env"]}


def test_a_new_app_gets_the_template_s_paths_and_no_suffix() -> None:
    app = provisioned(FIRST)
    assert env(app)["MODEL_PATH"] == f"/mount/{FIRST['baseModelPath']}"
    assert env(app)["ADAPTER_PATH"] == f"/mount/{FIRST['adapterPath']}"
    assert app["properties"]["template"]["revisionSuffix"] == ""
    assert server(app)["image"] == FIRST["containerImage"]


def test_provisioning_again_after_a_deploy_renders_the_revision_the_deploy_left() -> None:
    app = deployed(provisioned(FIRST), "v2", "model-cache/org/other-model")
    again = provisioned(FIRST, app)
    assert again == app  # same suffix, same template: no new revision
    assert env(again)["ADAPTER_PATH"] == "/mount/serving/adapters/v2"
    assert env(again)["MODEL_PATH"] == "/mount/model-cache/org/other-model"
    assert provisioned(FIRST, again) == app  # and again


def test_the_app_s_image_is_kept_unless_the_request_names_one() -> None:
    app = deployed(provisioned(FIRST), "v2", FIRST["baseModelPath"], image="cr.example.io/inference:2")
    settings_image = {**FIRST, "containerImage": "cr.example.io/inference:1"}
    assert provisioned(settings_image, app) == app
    asked = provisioned({**FIRST, "containerImage": "cr.example.io/inference:3"}, app, ("containerImage",))
    assert server(asked)["image"] == "cr.example.io/inference:3"
    assert asked["properties"]["template"]["revisionSuffix"] == ""  # a new revision, named by Container Apps
    assert env(asked) == env(app)  # still serving what the deploy set


def test_a_revision_change_the_request_asks_for_makes_a_new_revision_that_keeps_serving_the_deploy() -> None:
    app = deployed(provisioned(FIRST), "v2", FIRST["baseModelPath"])
    for change in ({"gpuProfileType": "Consumption-GPU-NC8as-T4"}, {"maximumInstanceCount": 4},
                   {"maxBatchSize": 8}):
        changed = provisioned({**FIRST, **change}, app, tuple(change))
        assert changed["properties"]["template"]["revisionSuffix"] == "", change
        assert changed["properties"]["template"] != {**app["properties"]["template"], "revisionSuffix": ""}
        assert env(changed)["ADAPTER_PATH"] == "/mount/serving/adapters/v2"
        assert changed["tags"][REVISION_TAG] != app["tags"][REVISION_TAG]


def test_the_request_s_paths_do_not_undo_a_deploy() -> None:
    app = deployed(provisioned(FIRST), "v2", FIRST["baseModelPath"])
    again = provisioned({**FIRST, "adapterPath": "models/older/adapter"}, app, ("adapterPath",))
    assert again == app


def test_a_suffix_is_only_kept_for_an_app_the_template_would_render_as_it_is() -> None:
    app = deployed(provisioned(FIRST), "v2", FIRST["baseModelPath"])
    untagged = {**app, "tags": {}}  # made by hand or by an older template
    assert provisioned(FIRST, untagged)["properties"]["template"]["revisionSuffix"] == ""
    shuffled = copy.deepcopy(app)
    server_env = shuffled["properties"]["template"]["containers"][0]["env"]
    server_env.insert(0, server_env.pop())  # the app's variables in another order
    again = provisioned(FIRST, shuffled)
    assert again["properties"]["template"]["revisionSuffix"] == "" and env(again) == env(app)


def test_the_template_s_own_variables_are_the_ones_deploys_leave_alone() -> None:
    assert set(template_env_names()) == {"MERGED_CACHE_DIR", "MAX_BATCH_SIZE", "PORT", "HOST", "API_KEY",
                                           "ADMIN_API_KEY", "ADAPTER_POINTER"}
