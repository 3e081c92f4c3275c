"""A loopback certificate authority: simulators serve its certificates; clients trust it through the environment."""

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class LoopbackCA:
    """A CA bundle for clients (REQUESTS_CA_BUNDLE, SSL_CERT_FILE) and a server context for 127.0.0.1/localhost."""

    bundle: Path
    server_context: ssl.SSLContext


def make_loopback_ca(directory: Path) -> LoopbackCA:
    """Create a CA, issue a server certificate for 127.0.0.1 and localhost, and write the CA bundle."""
    authority = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    bundle = directory / "loopback-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return LoopbackCA(bundle=bundle, server_context=context)
