"""Standard Webhooks verification of the training-complete webhook, without a host: headers, rotation, tolerance."""

import base64
import time
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook

from http_api.responses import BadRequest
from http_api.webhook_signature import (
    NotAuthentic,
    WebhookNotConfigured,
    verifiers,
    verify,
)

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"x" * 32).decode()
BODY = b'{"app_name": "chat", "adapter_path": "models/qlora/qlora/gpu_model/adapter"}'


def signed(secret: str, body: bytes = BODY, webhook_id: str = "msg_1", at: float | None = None) -> dict[str, str]:
    """Headers the library itself signs for `body` with `secret` at time `at` (now by default)."""
    moment = datetime.fromtimestamp(int(time.time() if at is None else at), UTC)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, moment, body.decode())}


@pytest.mark.parametrize("configured", [None, "", "   "])
def test_no_secret_configured_accepts_nothing(configured) -> None:
    with pytest.raises(WebhookNotConfigured, match="WEBHOOK_SECRET"):
        verifiers(None if configured is None else SecretStr(configured))


@pytest.mark.parametrize("bad", ["whsec_short", "not-base64-at-all!", "whsec_" + "A" * 8])
def test_a_malformed_secret_is_refused_without_quoting_it(bad) -> None:
    with pytest.raises(WebhookNotConfigured) as refused:
        verifiers(SecretStr(f"{OLD} {bad}"))
    assert "entry 2 of 2" in str(refused.value)
    assert bad not in str(refused.value) and OLD not in str(refused.value)


def test_a_call_signed_by_the_secret_is_verified() -> None:
    call = verify(verifiers(SecretStr(NEW)), BODY, signed(NEW, webhook_id="msg_abc"))
    assert call.webhook_id == "msg_abc"


@pytest.mark.parametrize("sender", [OLD, NEW])
def test_while_rotating_a_call_signed_by_either_secret_is_verified(sender) -> None:
    assert verify(verifiers(SecretStr(f"{OLD} {NEW}")), BODY, signed(sender)).webhook_id == "msg_1"


def test_a_call_signed_by_a_retired_secret_is_refused() -> None:
    with pytest.raises(NotAuthentic, match="matches no configured secret"):
        verify(verifiers(SecretStr(NEW)), BODY, signed(OLD))


def test_several_signatures_in_the_header_any_may_match() -> None:
    headers = signed(NEW)
    headers["webhook-signature"] = f"{signed(OTHER)['webhook-signature']}  {headers['webhook-signature']}"
    assert verify(verifiers(SecretStr(NEW)), BODY, headers).webhook_id == "msg_1"


@pytest.mark.parametrize("change", ["body", "id", "timestamp"])
def test_changing_anything_signed_breaks_the_signature(change) -> None:
    headers = signed(NEW)
    body = BODY.replace(b"chat", b"chaz") if change == "body" else BODY
    if change == "id":
        headers["webhook-id"] = "msg_2"
    if change == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    with pytest.raises(NotAuthentic) as refused:
        verify(verifiers(SecretStr(NEW)), body, headers)
    assert refused.value.status_code == 401


@pytest.mark.parametrize(("offset", "words"), [(-301, "in the past"), (-3600, "in the past"), (301, "in the future"),
                                               (86_400, "in the future")])
def test_a_timestamp_outside_five_minutes_is_refused_even_when_signed(offset, words) -> None:
    with pytest.raises(NotAuthentic) as refused:
        verify(verifiers(SecretStr(NEW)), BODY, signed(NEW, at=time.time() + offset))
    assert words in refused.value.message and "5-minute" in refused.value.message


@pytest.mark.parametrize("offset", [-290, 290])
def test_a_timestamp_within_five_minutes_is_accepted(offset) -> None:
    assert verify(verifiers(SecretStr(NEW)), BODY, signed(NEW, at=time.time() + offset)).webhook_id == "msg_1"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_400_naming_it(missing) -> None:
    headers = signed(NEW)
    del headers[missing]
    with pytest.raises(BadRequest) as refused:
        verify(verifiers(SecretStr(NEW)), BODY, headers)
    assert refused.value.status_code == 400
    assert [item["field"] for item in refused.value.fields] == [missing]


@pytest.mark.parametrize(("header", "value"), [("webhook-timestamp", "1.7e9"), ("webhook-timestamp", "soon"),
                                               ("webhook-id", "has space"), ("webhook-id", "x" * 200)])
def test_a_malformed_id_or_timestamp_is_400_naming_it(header, value) -> None:
    headers = signed(NEW) | {header: value}
    with pytest.raises(BadRequest) as refused:
        verify(verifiers(SecretStr(NEW)), BODY, headers)
    assert refused.value.status_code == 400 and refused.value.fields[0]["field"] == header


@pytest.mark.parametrize("value", ["garbage", "v1,not-base64!!", "v1,a,b", "v2,abc="])
def test_a_malformed_signature_header_is_401(value) -> None:
    with pytest.raises(NotAuthentic) as refused:
        verify(verifiers(SecretStr(NEW)), BODY, signed(NEW) | {"webhook-signature": value})
    assert refused.value.status_code == 401


def test_a_body_that_is_not_utf8_is_400() -> None:
    with pytest.raises(BadRequest, match="UTF-8"):
        verify(verifiers(SecretStr(NEW)), b"\xff\xfe", signed(NEW))


def test_no_message_quotes_the_secret_or_the_signature() -> None:
    headers = signed(OLD)
    with pytest.raises(NotAuthentic) as refused:
        verify(verifiers(SecretStr(NEW)), BODY, headers)
    text = f"{refused.value.message} {refused.value.fields}"
    assert headers["webhook-signature"].split(",")[1] not in text and NEW not in text
