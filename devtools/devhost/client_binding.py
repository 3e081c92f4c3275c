"""The durable client starter JSON, shaped like the one the Functions host gives to a durableClient binding."""

from __future__ import annotations

import json
from urllib.parse import quote

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
RPC_PATH = "/durabletask"


def _query(hub: str, key: str | None) -> str:
    code = f"&code={quote(key)}" if key else ""
    return f"taskHub={quote(hub)}&connection=Storage{code}"


def management_urls(base: str, hub: str, key: str | None, instance_id: str = "INSTANCEID") -> dict[str, str]:
    """The instance management URLs (the check-status payload) under a webhook base URL."""
    query = _query(hub, key)
    instance = f"{base}/instances/{quote(instance_id, safe='')}"
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{instance}?{query}",
        "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
        "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
        "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
        "purgeHistoryDeleteUri": f"{instance}?{query}",
        "restartPostUri": f"{instance}/restart?{query}",
        "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
        "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
    }


def starter_json(port: int, hub: str, key: str | None, rpc_token: str) -> str:
    """Build the binding data DurableOrchestrationClient is constructed from."""
    base = f"http://localhost:{port}{WEBHOOK_PATH}"
    code = f"?code={quote(key)}" if key else ""
    data = {
        "taskHubName": hub,
        "creationUrls": {
            "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]{code}",
            "createAndWaitOnNewInstancePostUri":
                f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?timeout={{timeoutInSeconds}}"
                f"&pollingInterval={{intervalInSeconds}}{code.replace('?', '&')}",
        },
        "managementUrls": management_urls(base, hub, key),
        "baseUrl": base,
        "requiredQueryStringParameters": f"code={quote(key)}" if key else "",
        "rpcBaseUrl": f"http://127.0.0.1:{port}{RPC_PATH}/{rpc_token}/",
        "httpBaseUrl": "",
    }
    return json.dumps(data)
