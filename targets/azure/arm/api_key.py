"""The API key the inference server checks (the template's secure `apiKey`, stored as the app's `api-key` secret).

Where it comes from, in order: the AZURE_INFERENCE_API_KEY app setting (a Key Vault reference in Azure), else the
key the app already has (so provisioning again changes nothing and clients keep working), else a new random key.
It is resolved inside the start activity and sent only in the deployment's body: never in an orchestration input,
output, status or log. Read it with `az containerapp secret show --secret-name api-key --show-values`.
"""

import secrets

from azure.core.exceptions import ResourceNotFoundError

from service_settings import ServiceSettings
from targets.azure.arm.template import ADMIN_KEY_SECRET, API_KEY_SECRET
from targets.azure.clients import arm_container_apps_client, arm_endpoint

KEY_BYTES = 32
READ_METHODS = ("GET", "HEAD", "POST")
"""listSecrets is a POST that changes nothing, so a broken connection may repeat it (azure-core would not)."""


def existing_secret(settings: ServiceSettings, subscription: str, group: str, app_name: str,
                    secret_name: str) -> str | None:
    """The app's current secret `secret_name`, or None when the app (or the secret) does not exist yet."""
    client = arm_container_apps_client(subscription, *arm_endpoint(settings))
    try:
        collection = client.container_apps.list_secrets(group, app_name, retry_on_methods=READ_METHODS)
    except ResourceNotFoundError:
        return None
    return next((secret.value for secret in collection.value if secret.name == secret_name and secret.value), None)


def existing_api_key(settings: ServiceSettings, subscription: str, group: str, app_name: str) -> str | None:
    """The app's current `api-key` secret, or None when the app (or the secret) does not exist yet."""
    return existing_secret(settings, subscription, group, app_name, API_KEY_SECRET)


def admin_key_for(settings: ServiceSettings, subscription: str, group: str, app_name: str) -> str:
    """The admin route's key (`admin-key` secret): the app's current one (a re-provision changes nothing, and the
    running server keeps accepting it), else a new random key. Only deploys read it back, with listSecrets."""
    return (existing_secret(settings, subscription, group, app_name, ADMIN_KEY_SECRET)
            or secrets.token_urlsafe(KEY_BYTES))


def api_key_for(settings: ServiceSettings, subscription: str, group: str, app_name: str) -> str:
    """The key to deploy the app with (see the module's docstring for the order)."""
    if settings.azure_inference_api_key is not None:
        return settings.azure_inference_api_key.get_secret_value()
    return existing_api_key(settings, subscription, group, app_name) or secrets.token_urlsafe(KEY_BYTES)
