"""Tell the deploy service that training finished: one signed POST to /api/webhooks/training-complete.

Standard library only, so it runs on the training job's stock image with nothing installed. Deploy syncs it to the
share beside the server code, so a training job that mounts the share at /mount runs it as

    python3 /mount/inference/inference_container/notify_training_complete.py --url "$FT_WEBHOOK_URL" \\
        --app finetuned-chat --adapter-path models/qlora/qlora/gpu_model/adapter

with the webhook secret (whsec_<base64>; several space-separated while rotating) in the environment variable
FT_WEBHOOK_SECRET, never on the command line. Signing follows Standard Webhooks: headers webhook-id,
webhook-timestamp, webhook-signature = "v1,<base64 HMAC-SHA256 of id.timestamp.body>". Every attempt keeps the
delivery's webhook-id and is signed anew with the current time; 5xx, 408, 429 and connection errors are retried
with exponential back-off, a 4xx is final.

Exit status: 0 accepted, 1 refused (4xx: fix what it says), 2 usage or configuration error, 3 gave up.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

SECRET_ENV = "FT_WEBHOOK_SECRET"
URL_ENV = "FT_WEBHOOK_URL"
DEFAULT_ADAPTER_PATH = "models/qlora/qlora/gpu_model/adapter"
ACCEPTED, REFUSED, USAGE, GAVE_UP = 0, 1, 2, 3
RETRYABLE_4XX = frozenset({408, 425, 429})
MAX_REPLY_BYTES = 64 * 1024


class UsageError(Exception):
    """The command line or the environment is unusable (exit 2); the message names what to fix."""


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body text, Retry-After seconds if given."""

    status: int
    text: str
    retry_after: float | None = None


Send = Callable[[str, bytes, Mapping[str, str], float], Reply]


def secret_keys(value: str, variable: str = SECRET_ENV) -> list[bytes]:
    """The HMAC keys of space-separated whsec_<base64> secrets; UsageError (never quoting them) when malformed."""
    keys = []
    for position, entry in enumerate(value.split(), start=1):
        encoded = entry[len("whsec_"):] if entry.startswith("whsec_") else entry
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not key:
            raise UsageError(f"{variable} entry {position} is not a whsec_<base64> secret")
        keys.append(key)
    if not keys:
        raise UsageError(f"set the webhook secret (whsec_<base64>) in the environment variable {variable}")
    return keys


def signature(keys: Sequence[bytes], webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: one v1 entry per key over "id.timestamp.body"."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode() for key in keys
    )


def body_of(app: str, adapter_path: str, base_model: str | None, run_id: str | None) -> bytes:
    """The JSON body: app_name and adapter_path, base_model and run_id when given."""
    fields = {"app_name": app, "adapter_path": adapter_path, "base_model": base_model, "run_id": run_id}
    return json.dumps({key: value for key, value in fields.items() if value is not None}).encode()


def _retry_after(value: str | None) -> float | None:
    return float(value) if value and value.strip().isdigit() else None


def send_http(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
    """POST once; an HTTP error status is a Reply, a connection problem raises OSError."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Reply(answer.status, answer.read(MAX_REPLY_BYTES).decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        text = error.read(MAX_REPLY_BYTES).decode("utf-8", "replace")
        return Reply(error.code, text, _retry_after(error.headers.get("Retry-After")))


def _message(text: str) -> str:
    """The error message of a JSON error answer ({"error": {"message": ...}}), else the text, cut short."""
    try:
        data = json.loads(text)
        message = data["error"]["message"] if isinstance(data.get("error"), dict) else data.get("error", text)
    except (ValueError, AttributeError, KeyError, TypeError):
        message = text
    return str(message)[:2000]


@dataclass
class Delivery:
    """One webhook delivery: the same id and body on every attempt."""

    url: str
    body: bytes
    keys: Sequence[bytes]
    webhook_id: str
    attempts: int = 8
    backoff_s: float = 2.0
    max_backoff_s: float = 60.0
    timeout_s: float = 30.0

    def headers(self, now: float) -> dict[str, str]:
        """The headers of one attempt, signed at `now`."""
        timestamp = int(now)
        return {"content-type": "application/json", "webhook-id": self.webhook_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature(self.keys, self.webhook_id, timestamp, self.body)}

    def run(self, send: Send = send_http, sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.time, out: Callable[[str], None] = print) -> int:
        """Deliver with retries; the exit status."""
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                reply = send(self.url, self.body, self.headers(clock()), self.timeout_s)
            except OSError as error:
                reply, problem = None, f"cannot reach {self.url}: {getattr(error, 'reason', error)}"
            if reply is not None and 200 <= reply.status < 300:
                out(f"training-complete webhook {self.webhook_id} accepted (HTTP {reply.status}): {reply.text}")
                return ACCEPTED
            if reply is not None and reply.status < 500 and reply.status not in RETRYABLE_4XX:
                out(f"error: training-complete webhook refused (HTTP {reply.status}): {_message(reply.text)}")
                return REFUSED
            if reply is not None:
                problem = f"HTTP {reply.status}: {_message(reply.text)}"
            if attempt < self.attempts:
                delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
                if reply is not None and reply.retry_after is not None:
                    delay = min(self.max_backoff_s, max(delay, reply.retry_after))
                out(f"attempt {attempt}/{self.attempts} failed ({problem}); retrying in {delay:.0f} s")
                sleep(delay)
        out(f"error: training-complete webhook not delivered after {self.attempts} attempts; last: {problem}")
        return GAVE_UP


def parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description="Notify the deploy service that a training run finished.",
                                     epilog=f"The secret is read from ${SECRET_ENV} (or --secret-env).")
    parser.add_argument("--url", default=os.environ.get(URL_ENV),
                        help=f"the webhook URL, https://<function app>/api/webhooks/training-complete (${URL_ENV})")
    parser.add_argument("--app", required=True, help="the app to redeploy")
    parser.add_argument("--adapter-path", default=DEFAULT_ADAPTER_PATH, help="share-relative training output")
    parser.add_argument("--base-model", help="share-relative base model (default: the one the app serves)")
    parser.add_argument("--run-id", help="the training run's id, kept with the deploy")
    parser.add_argument("--webhook-id", help="the delivery's id (default: a new random one)")
    parser.add_argument("--secret-env", default=SECRET_ENV, help="environment variable holding the secret")
    parser.add_argument("--attempts", type=int, default=8, help="attempts before giving up (default 8)")
    parser.add_argument("--backoff", type=float, default=2.0, help="seconds before the first retry (doubles)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer")
    return parser


def delivery(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Delivery:
    """The delivery the command line and environment describe; UsageError when they are unusable."""
    args = parser().parse_args(argv)
    url = args.url or environ.get(URL_ENV)
    if not url or not url.startswith(("https://", "http://")):
        raise UsageError(f"pass --url https://<function app>/api/webhooks/training-complete (or set {URL_ENV})")
    if args.attempts < 1:
        raise UsageError("--attempts must be at least 1")
    keys = secret_keys(environ.get(args.secret_env, ""), args.secret_env)
    return Delivery(url=url, body=body_of(args.app, args.adapter_path, args.base_model, args.run_id), keys=keys,
                    webhook_id=args.webhook_id or f"msg_{uuid.uuid4().hex}", attempts=args.attempts,
                    backoff_s=args.backoff, timeout_s=args.timeout)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the notifier; the exit status."""
    try:
        chosen = delivery(argv, os.environ if environ is None else environ)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE
    return chosen.run(out=lambda line: print(line, file=sys.stderr if line.startswith("error") else sys.stdout,
                                             flush=True))


if __name__ == "__main__":
    sys.exit(main())
