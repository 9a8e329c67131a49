"""Signing and checking the simulator's JWTs (access tokens, id tokens) and client assertions.

Access tokens are RS256 JWTs signed by a key the simulator owns (published as JWKS),
shaped like Entra ID's v1 Graph tokens: ``aud`` = Graph, ``tid``, ``appid``, ``roles``
(application permissions) or ``scp`` (delegated), ``exp``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

#: The audience of Graph tokens (the resource URI) and Graph's well-known app id.
GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"

_KEY_LOCK = threading.Lock()
_KEY: "SigningKey | None" = None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    """An RSA key pair with a key id (``kid``/``x5t``) as the STS publishes it."""

    private_key: rsa.RSAPrivateKey
    kid: str

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key))
        jwk.update({"kid": self.kid, "x5t": self.kid, "use": "sig"})
        return {"keys": [jwk]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"typ": "JWT", "kid": self.kid, "x5t": self.kid})


def signing_key() -> SigningKey:
    """One key per process (RSA generation costs tens of milliseconds)."""
    global _KEY
    with _KEY_LOCK:
        if _KEY is None:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            der = private_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            _KEY = SigningKey(private_key, _b64url(hashlib.sha1(der).digest()))
        return _KEY


@dataclass
class RegisteredCertificate:
    """A certificate uploaded to an app registration, indexed by its thumbprints."""

    certificate: x509.Certificate
    sha1: str = field(init=False)
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.sha1 = _b64url(self.certificate.fingerprint(hashes.SHA1()))  # noqa: S303 - x5t is SHA-1 by spec
        self.sha256 = _b64url(self.certificate.fingerprint(hashes.SHA256()))

    @classmethod
    def from_pem(cls, pem: str | bytes) -> "RegisteredCertificate":
        data = pem.encode() if isinstance(pem, str) else pem
        return cls(x509.load_pem_x509_certificate(data))


@dataclass
class AppRegistration:
    """An Entra ID app registration plus its service principal's grants in this tenant.

    ``roles`` are application permissions with admin consent (go into app tokens);
    ``delegated_scopes`` are consented delegated permissions (device code flow);
    ``public_client`` allows public client flows (device code without a secret).
    """

    client_id: str
    display_name: str = "syncframe"
    secrets: list[str] = field(default_factory=list)
    certificates: list[RegisteredCertificate] = field(default_factory=list)
    roles: set[str] = field(default_factory=set)
    delegated_scopes: set[str] = field(default_factory=set)
    public_client: bool = True
    service_principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def secret(self) -> str | None:
        """The first registered secret (convenience for tests and the sandbox)."""
        return self.secrets[0] if self.secrets else None

    def certificate_for(self, header: dict[str, Any]) -> RegisteredCertificate | None:
        """The registered certificate an assertion names through ``x5t#S256`` or ``x5t``."""
        # msal pads its base64url thumbprints, the JOSE spec does not: compare unpadded
        sha256 = str(header.get("x5t#S256") or "").rstrip("=")
        sha1 = str(header.get("x5t") or "").rstrip("=")
        for cert in self.certificates:
            if sha256 == cert.sha256 or sha1 == cert.sha1:
                return cert
        return None
