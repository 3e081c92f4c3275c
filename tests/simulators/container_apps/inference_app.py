"""The inference container app as infra/provision/inference.bicep declares it (what provisioning PUTs), as JSON.

Until the ARM simulator deploys the committed template itself, tests create the app from this body: the same
command, environment, secret reference, probes, volume and scale as the template, with its default parameters.
"""

from typing import Any

PORT = 7860
MOUNT = "/mount"
COMMAND = "cd /mount/inference && exec python -m inference_container"
API_KEY_SECRET = "api-key"
ADMIN_KEY_SECRET = "admin-key"


def probe(kind: str, path: str, **timing: int) -> dict[str, Any]:
    """An httpGet probe on the server's port."""
    return {"type": kind, "httpGet": {"path": path, "port": PORT, "scheme": "HTTP"}, "timeoutSeconds": 5,
            "successThreshold": 1, **timing}


def inference_app_body(app_name: str, api_key: str, environment_id: str, storage_name: str, base_model: str,
                       adapter_path: str, image: str = "myregistry.azurecr.io/finetune-inference:1",
                       admin_key: str | None = None) -> dict[str, Any]:
    """The ContainerApp resource of the template's app (location eastus); with `admin_key`, its admin-key secret and
    the server's ADMIN_API_KEY and ADAPTER_POINTER (what the template sets since in-place swaps exist)."""
    volume = f"{storage_name}volume"
    env = [
        {"name": "MODEL_PATH", "value": f"{MOUNT}/{base_model}"},
        {"name": "MERGED_CACHE_DIR", "value": f"{MOUNT}/serving/merged"},
        {"name": "MAX_BATCH_SIZE", "value": "32"},
        {"name": "PORT", "value": str(PORT)},
        {"name": "HOST", "value": "0.0.0.0"},
        {"name": "API_KEY", "secretRef": API_KEY_SECRET},
        {"name": "ADAPTER_PATH", "value": f"{MOUNT}/{adapter_path}"},
    ]
    secrets = [{"name": API_KEY_SECRET, "value": api_key}]
    if admin_key is not None:
        env[-1:-1] = [{"name": "ADMIN_API_KEY", "secretRef": ADMIN_KEY_SECRET},
                      {"name": "ADAPTER_POINTER", "value": f"{MOUNT}/serving/apps/{app_name}/current.json"}]
        secrets.append({"name": ADMIN_KEY_SECRET, "value": admin_key})
    container = {
        "name": app_name, "image": image, "command": ["/bin/bash", "-c", COMMAND], "env": env,
        "resources": {"cpu": 8, "memory": "56Gi"},
        "probes": [probe("Startup", "/ready", initialDelaySeconds=60, periodSeconds=90, failureThreshold=10),
                   probe("Liveness", "/health", periodSeconds=10, failureThreshold=3),
                   probe("Readiness", "/ready", periodSeconds=10, failureThreshold=3)],
        "volumeMounts": [{"volumeName": volume, "mountPath": MOUNT}],
    }
    configuration = {
        "activeRevisionsMode": "Single", "maxInactiveRevisions": 100,
        "secrets": secrets,
        "ingress": {"external": True, "targetPort": PORT, "transport": "auto", "allowInsecure": False,
                    "traffic": [{"latestRevision": True, "weight": 100}]},
    }
    template = {
        "terminationGracePeriodSeconds": 120, "containers": [container],
        "scale": {"minReplicas": 0, "maxReplicas": 2, "cooldownPeriod": 900,
                  "rules": [{"name": "http-batch", "http": {"metadata": {"concurrentRequests": "32"}}}]},
        "volumes": [{"name": volume, "storageType": "AzureFile", "storageName": storage_name}],
    }
    properties = {"environmentId": environment_id, "workloadProfileName": "GPU", "configuration": configuration,
                  "template": template}
    return {"location": "eastus", "identity": {"type": "None"}, "properties": properties}
