"""A managed-identity endpoint speaking the App Service protocol, and the tokens it issued.

What azure-identity 1.27.0 sends (read in its source: `_credentials/app_service.py`, and msal's
`managed_identity._obtain_token_on_app_service`, which does the request):
`GET <IDENTITY_ENDPOINT>?api-version=2019-08-01&resource=<scope without /.default>` (plus `client_id`, `mi_res_id`
or `object_id` for a user-assigned identity), headers `X-IDENTITY-HEADER: <IDENTITY_HEADER>` and `Metadata: true`.
It expects JSON `{access_token, expires_on (epoch seconds, a string on App Service), resource, token_type}`;
a reply without `access_token` and `expires_on` is an error.
"""

import json
import secrets
import threading
import time
from dataclasses import dataclass

from tests.simulators.https_server import Request, Response

API_VERSION = "2019-08-01"
TOKEN_PATH = "/msi/token"
STORAGE_AUDIENCE = "https://storage.azure.com"


def audience_of(resource: str) -> str:
    """A resource or scope as an audience: no `/.default`, no trailing slash."""
    return resource.removesuffix("/.default").rstrip("/")


@dataclass(frozen=True)
class Grant:
    """What a token is good for, and until when (epoch seconds)."""

    audience: str
    expires_on: float


class TokenRegistry:
    """Opaque random tokens with their audience and expiry; the other simulators check bearer tokens here."""

    def __init__(self) -> None:
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, resource: str, lifetime_s: float) -> tuple[str, Grant]:
        """A new token for `resource`."""
        token = secrets.token_urlsafe(32)
        grant = Grant(audience_of(resource), time.time() + lifetime_s)
        with self._lock:
            self._grants[token] = grant
        return token, grant

    def rejection(self, token: str, audience: str) -> str | None:
        """Why `token` is not good for `audience` now, or None when it is."""
        with self._lock:
            grant = self._grants.get(token)
        if grant is None:
            return "the access token is not one the identity endpoint issued"
        if grant.expires_on <= time.time():
            return "the access token has expired"
        if grant.audience != audience_of(audience):
            return f"the access token's audience is {grant.audience}, not {audience_of(audience)}"
        return None

    def expire_all(self) -> None:
        """Make every issued token expired, as if time had passed (clients still hold them)."""
        with self._lock:
            self._grants = {token: Grant(grant.audience, 0.0) for token, grant in self._grants.items()}

    def issued(self) -> list[str]:
        """Every token issued so far (to check that none leaks into logs or errors)."""
        with self._lock:
            return list(self._grants)


class ManagedIdentityApp:
    """The App Service managed-identity endpoint: checks the header secret and API version, issues tokens."""

    def __init__(self, tokens: TokenRegistry, secret: str, lifetime_s: float = 3600) -> None:
        self.tokens = tokens
        self.secret = secret
        self.lifetime_s = lifetime_s

    def handle(self, request: Request) -> Response:
        """Answer a token request."""
        if request.method != "GET" or request.path != TOKEN_PATH:
            return self.error(404, "NotFound", f"no {request.method} {request.path} on the identity endpoint")
        if request.header("X-IDENTITY-HEADER") != self.secret:
            return self.error(401, "Unauthorized", "X-IDENTITY-HEADER is missing or wrong")
        if request.query.get("api-version") != API_VERSION:
            return self.error(400, "BadRequest", f"api-version must be {API_VERSION}")
        resource = request.query.get("resource")
        if not resource:
            return self.error(400, "BadRequest", "resource is required")
        token, grant = self.tokens.issue(resource, self.lifetime_s)
        body = {
            "access_token": token,
            "expires_on": str(int(grant.expires_on)),
            "resource": resource,
            "token_type": "Bearer",
        }
        return Response(200, {"Content-Type": "application/json"}, json.dumps(body).encode(), "GetToken")

    def error(self, status: int, code: str, message: str) -> Response:
        """An App Service style error body."""
        body = json.dumps({"statusCode": status, "message": message, "correlationId": secrets.token_hex(8)})
        return Response(status, {"Content-Type": "application/json"}, body.encode(), code)
