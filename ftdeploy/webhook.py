"""Signing a training-complete webhook the Standard Webhooks way (the `standardwebhooks` library when installed).

Signature: `v1,<base64 HMAC-SHA256(secret, f"{id}.{timestamp}.{body}")>`, the secret written `whsec_<base64>`.
The secret is never printed: errors about it name where it came from, not what it is.
"""

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime

from ftdeploy.errors import CliError, Exit

SECRET_PREFIX = "whsec_"


def secret_bytes(secret: str, source: str) -> bytes:
    """The key inside `whsec_<base64>` (the prefix is optional, as in the library)."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise CliError(f"the webhook secret from {source} is not of the form whsec_<base64>", Exit.USAGE)
    return key


def signature(secret: str, source: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value."""
    key = secret_bytes(secret, source)
    try:
        from standardwebhooks import Webhook  # the reference implementation, where the project installs it
    except ImportError:
        signed = f"{msg_id}.{timestamp}.".encode() + body
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        return f"v1,{base64.b64encode(digest).decode()}"
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return str(Webhook(SECRET_PREFIX + base64.b64encode(key).decode()).sign(msg_id, moment, body.decode()))


def signed_headers(secret: str, source: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, with a new message id and the current time."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time() if now is None else now)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, source, msg_id, timestamp, body),
        "content-type": "application/json",
    }
