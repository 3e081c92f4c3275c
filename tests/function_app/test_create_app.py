"""Provisioning an app on the local target reports the AI Toolkit's inference.config.json keys."""

import json
import re
from pathlib import Path

from activities.create_app import create_app
from tests.function_app.invoke import user_function

create = user_function(create_app)
AZURE_SHARE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")  # Azure Files' naming rule


def test_file_share_name_is_a_share_name_not_the_share_directory(local_root: Path) -> None:
    outputs = create({"target": "local", "app_name": "app-one", "port": None})
    assert outputs["FILE_SHARE_NAME"] == "local-share" and AZURE_SHARE_NAME.match(outputs["FILE_SHARE_NAME"])
    assert str(local_root) not in json.dumps(outputs)
    config = json.loads((local_root / "apps" / "app-one" / "inference.config.json").read_text())
    assert config == outputs


def test_an_input_with_a_field_since_removed_is_still_accepted(local_root: Path) -> None:
    outputs = create({"target": "local", "app_name": "app-one", "port": None, "retired_field": True})
    assert outputs["ACA_APP_NAME"] == "app-one"
