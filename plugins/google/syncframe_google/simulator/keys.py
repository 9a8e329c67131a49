"""Service-account keys made on the spot (never a key on disk in the repository).

:func:`new_service_account` makes an RSA key pair and the JSON a Google Cloud
console download holds; the simulator keeps only the public half to verify the
signed JWTs its token endpoint receives.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ServiceAccountKey:
    """One service account and one of its keys."""

    client_email: str
    client_id: str
    key_id: str
    private_pem: str
    public_pem: str
    project_id: str
    token_uri: str = "https://oauth2.googleapis.com/token"

    def info(self, token_uri: str | None = None) -> dict[str, Any]:
        """The key file's JSON, as Google's console hands it out."""
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.key_id,
            "private_key": self.private_pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri or self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{self.client_email.replace('@', '%40')}",
            "universe_domain": "googleapis.com",
        }

    def json(self, token_uri: str | None = None) -> str:
        return json.dumps(self.info(token_uri), indent=2)

    def write(self, path: str | Path, token_uri: str | None = None) -> Path:
        """Write the key file with mode 0600 (the source refuses anything more open)."""
        path = Path(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.json(token_uri))
        os.chmod(path, 0o600)
        return path


def new_service_account(name: str = "syncframe", project_id: str = "syncframe-sim", client_id: str | None = None) -> ServiceAccountKey:
    """A service account ``name@project_id.iam.gserviceaccount.com`` with a fresh 2048-bit key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return ServiceAccountKey(
        client_email=f"{name}@{project_id}.iam.gserviceaccount.com",
        client_id=client_id or str(10**20 + secrets.randbelow(9 * 10**20)),
        key_id=secrets.token_hex(20),
        private_pem=private_pem,
        public_pem=public_pem,
        project_id=project_id,
    )
