"""The Azure Functions app: registers one blueprint per module and holds no logic."""

import azure.durable_functions as df
import azure.functions as func

from activities import (
    check_readiness,
    create_app,
    prepare_share,
    record_deployment,
    restart_revision,
    snapshot_adapter,
    sync_share,
)
from http_api import deploy as deploy_route
from http_api import provision as provision_route
from http_api import status as status_route
from orchestrations import deploy, provision

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

for module in (
    provision_route, deploy_route, status_route,
    provision, deploy,
    prepare_share, create_app, sync_share, snapshot_adapter, restart_revision, check_readiness, record_deployment,
):
    app.register_functions(module.bp)
