"""The Azure Functions app: registers one blueprint per module and holds no logic."""

import azure.durable_functions as df
import azure.functions as func

from activities import (
    check_readiness,
    choose_strategy,
    create_app,
    discard_candidate,
    ensure_resource_group,
    prepare_share,
    probe_candidate,
    promote_candidate,
    read_arm_deployment,
    record_deployment,
    restart_revision,
    smoke_gate,
    snapshot_adapter,
    start_arm_deployment,
    start_candidate,
    swap_adapter,
    sync_share,
)
from http_api import apps as apps_route
from http_api import deploy as deploy_route
from http_api import provision as provision_route
from http_api import status as status_route
from http_api import webhooks as webhooks_route
from orchestrations import app_registry, deploy, deployer, provision

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

for module in (
    provision_route, deploy_route, status_route, apps_route, webhooks_route,
    provision, deploy, deployer, app_registry,
    prepare_share, create_app, sync_share, snapshot_adapter, restart_revision, check_readiness, record_deployment,
    ensure_resource_group, start_arm_deployment, read_arm_deployment,
    choose_strategy, swap_adapter, start_candidate, probe_candidate, smoke_gate, promote_candidate, discard_candidate,
):
    app.register_functions(module.bp)
