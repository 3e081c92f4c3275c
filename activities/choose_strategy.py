"""Activity: choose how a deploy reaches its new version, from what changed since what serves now."""

from typing import Any

import azure.durable_functions as df

from payloads.redeploy_steps import StrategyChoice, StrategyInput
from payloads.steps import DeploymentRecord
from service_settings import get_settings
from share_layout import paths
from targets import get_target
from targets.protocol import Target

bp = df.Blueprint()


def serving_record(target: Target, app_name: str) -> DeploymentRecord | None:
    """What serving/apps/<app>/current.json says serves now; None before the first deploy (or unreadable)."""
    path = paths.current_record(app_name)
    if not target.share.exists(path):
        return None
    try:
        return DeploymentRecord.model_validate_json(target.share.read_bytes(path))
    except ValueError:
        return None


def choose(step: StrategyInput, target: Target) -> StrategyChoice:
    """swap when only the adapter changed, blue_green when the code or base model did, restart when nothing serves
    (first deploy, a stopped app) or the request asks for it."""
    if step.requested == "restart":
        return StrategyChoice(strategy="restart", reason="the request asked for a restart in place")
    record = serving_record(target, step.app_name)
    if record is None:
        return StrategyChoice(strategy="restart", reason="first deploy of the app: nothing serves yet")
    probe = target.apps.probe(step.app_name, record.revision)
    if not probe.ready:
        return StrategyChoice(strategy="restart", reason=f"nothing serves now ({probe.detail})")
    serving = {"serving_revision": record.revision, "serving_endpoint": record.endpoint,
               "serving_version": record.version}
    if step.requested == "blue_green":
        return StrategyChoice(strategy="blue_green", reason="the request asked for blue-green", **serving)
    changed = [what for what, differs in (("base model", record.base_model != step.base_model),
                                          ("server code", record.code_hash != step.code_hash)) if differs]
    if changed:
        return StrategyChoice(strategy="blue_green", reason=f"the {' and the '.join(changed)} changed", **serving)
    reason = (f"only the adapter changed ({record.version} -> {step.version})" if record.version != step.version
              else f"nothing changed: adapter {step.version} is swapped in again")
    return StrategyChoice(strategy="swap", reason=reason, **serving)


@bp.activity_trigger(input_name="payload")
def choose_strategy(payload: dict[str, Any]) -> dict[str, Any]:
    """The strategy of this deploy and why (recorded in its status and history)."""
    step = StrategyInput.model_validate(payload)
    return choose(step, get_target(step.target, get_settings(), step.azure)).model_dump(mode="json")
