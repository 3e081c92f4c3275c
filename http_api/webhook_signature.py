"""Standard Webhooks signatures of the training-complete webhook, verified by the `standardwebhooks` library.

A call carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (space-separated
`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`); the app holds one or more secrets `whsec_<base64>` in
WEBHOOK_SECRET, several while one is rotated out. A call is authentic when any signature matches any secret.

Freshness: `standardwebhooks` 1.1.0 refuses a timestamp more than 5 minutes older or newer than now
(`Webhook.verify`, `timedelta(minutes=5)` both ways, before it compares signatures): exactly the tolerance wanted,
so no second check is added here. A call outside it is a 401 like a bad signature: the library refuses it before
it knows whether the signature is genuine, so it is a failed authentication, not a malformed request. The
header's format is checked here first (integer seconds), since the library also takes "1.5e9" and signs what it
parsed rather than what was sent.

Nothing here ever puts a secret, a signature or the signed content in a message.
"""

import binascii
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr
from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

from http_api.responses import BadRequest
from payloads.requests import quoted

ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "webhook-id", "webhook-timestamp", "webhook-signature"
TOLERANCE_SECONDS = 300
"""The library's tolerance, both ways; used only to say which way a refused timestamp was off."""
WEBHOOK_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
TIMESTAMP_PATTERN = re.compile(r"^[0-9]{1,12}$")
MIN_SECRET_BYTES = 16
HOW_TO_CONFIGURE = ("set the app setting WEBHOOK_SECRET to whsec_<base64 of 32 random bytes>; "
                    "until then no call is accepted")
SECRET_PATTERN = re.compile(r"^(whsec_)?[A-Za-z0-9+/]+={0,2}$")


class WebhookNotConfigured(Exception):
    """WEBHOOK_SECRET is unset or malformed: the webhook accepts nothing (503)."""


class NotAuthentic(BadRequest):
    """401: the call is not signed by a configured secret, or not fresh."""

    status_code = 401


@dataclass(frozen=True)
class SignedCall:
    """What a verified call's headers said."""

    webhook_id: str
    timestamp: int


def _secret_bytes(entry: str) -> int:
    if not SECRET_PATTERN.match(entry):
        return 0
    try:
        return len(binascii.a2b_base64(entry.removeprefix("whsec_") + "=="))
    except binascii.Error:
        return 0


def verifiers(secret: SecretStr | None) -> list[Webhook]:
    """One verifier per configured secret; WebhookNotConfigured (naming no secret) when there is none usable."""
    entries = secret.get_secret_value().split() if secret is not None else []
    if not entries:
        raise WebhookNotConfigured(f"the training-complete webhook is not configured: {HOW_TO_CONFIGURE}")
    for position, entry in enumerate(entries, start=1):
        if _secret_bytes(entry) < MIN_SECRET_BYTES:
            raise WebhookNotConfigured(
                f"WEBHOOK_SECRET entry {position} of {len(entries)} is not a secret of the form whsec_<base64> "
                f"holding at least {MIN_SECRET_BYTES} bytes: {HOW_TO_CONFIGURE}")
    try:
        return [Webhook(entry) for entry in entries]
    except (binascii.Error, EmptyWebhookSecretError) as error:
        raise WebhookNotConfigured(f"WEBHOOK_SECRET cannot be read: {HOW_TO_CONFIGURE}") from error


def _headers_of(headers: Mapping[str, str]) -> dict[str, str]:
    """The three signature headers, or a 400 naming the missing ones and any malformed id or timestamp."""
    found = {name: (headers.get(name) or "").strip() for name in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)}
    problems = [{"field": name, "message": "header missing: a webhook is signed per Standard Webhooks"}
                for name, value in found.items() if not value]
    if found[ID_HEADER] and not WEBHOOK_ID_PATTERN.match(found[ID_HEADER]):
        problems.append({"field": ID_HEADER, "message": "must be 1-128 letters, digits and _.:- (the same id on "
                         f"every retry of one delivery), got {quoted(found[ID_HEADER])}"})
    if found[TIMESTAMP_HEADER] and not TIMESTAMP_PATTERN.match(found[TIMESTAMP_HEADER]):
        problems.append({"field": TIMESTAMP_HEADER, "message": "must be the signing time in integer Unix seconds, "
                         f"got {quoted(found[TIMESTAMP_HEADER])}"})
    if problems:
        raise BadRequest.naming("webhook headers refused", problems)
    return found | {SIGNATURE_HEADER: " ".join(found[SIGNATURE_HEADER].split())}


def _stale(timestamp: int) -> NotAuthentic | None:
    skew = int(time.time()) - timestamp
    if abs(skew) <= TOLERANCE_SECONDS:
        return None
    when = f"{skew} s in the past" if skew > 0 else f"{-skew} s in the future"
    return NotAuthentic(f"{TIMESTAMP_HEADER} is {when}, outside the {TOLERANCE_SECONDS // 60}-minute tolerance: sign "
                        "each attempt with the current time and check the sender's clock",
                        [{"field": TIMESTAMP_HEADER, "message": "outside the tolerance"}])


def verify(verifying: list[Webhook], body: bytes, headers: Mapping[str, str]) -> SignedCall:
    """The call's id and time when a configured secret signed `body` with these headers; else BadRequest (400/401)."""
    found = _headers_of(headers)
    try:
        text = body.decode()
    except UnicodeDecodeError as error:
        raise BadRequest("request body is not UTF-8 text: a webhook body is a JSON object") from error
    malformed = False
    for webhook in verifying:
        try:
            webhook.verify(text, found, json_parse=False)
        except WebhookVerificationError:
            continue
        except (ValueError, binascii.Error):  # an entry that is not "version,base64": the library cannot split it
            malformed = True
            continue
        return SignedCall(webhook_id=found[ID_HEADER], timestamp=int(found[TIMESTAMP_HEADER]))
    if (stale := _stale(int(found[TIMESTAMP_HEADER]))) is not None:
        raise stale
    reason = ("is malformed: send space-separated v1,<base64 signature> entries" if malformed
              else "matches no configured secret: sign id.timestamp.body with the webhook secret")
    raise NotAuthentic(f"{SIGNATURE_HEADER} {reason}", [{"field": SIGNATURE_HEADER, "message": "not authentic"}])
