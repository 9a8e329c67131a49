"""Cassettes: the one place where recordings are scrubbed, and the leak scanner.

Recording runs the simulators on loopback ports that change every run; replay must
not depend on them. So every recorded exchange is rewritten here:

* real base URLs (``https://127.0.0.1:51234``) become stable placeholders
  (``https://graph.sim.invalid``) in URIs, headers and bodies; a test registers
  each simulator with :meth:`HostMap.add` while recording and points its clients
  at the placeholder while replaying (see :func:`endpoint`);
* registered values (tenant ids, client ids) become placeholders the same way;
* secrets are replaced by ``REDACTED``: Authorization headers, client secrets and
  assertions, passwords, device codes, access/refresh/id tokens, Set-Cookie.

The same function scrubs requests when matching during replay, so a request the
client makes against a placeholder matches what was recorded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "REDACTED"
CASSETTE_ROOT = Path(__file__).parent / "cassettes"

#: headers whose values are secret (dropped or redacted)
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-ms-client-secret")
#: form fields and JSON keys whose values are secret
SECRET_FIELDS = (
    "client_secret",
    "client_assertion",
    "password",
    "003use_pw",
    "011acc_pin",
    "refresh_token",
    "access_token",
    "id_token",
    "device_code",
    "assertion",
    "private_key",
)

#: what a leak looks like in a cassette file
LEAK_PATTERNS = {
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "Basic credentials": re.compile(r"Basic [A-Za-z0-9+/]{12,}=*"),
    "Bearer token": re.compile(r"Bearer (?!REDACTED)[A-Za-z0-9._-]{12,}"),
    "client secret": re.compile(r"client_secret=(?!REDACTED)[^&\s'\"]{6,}"),
    "token in body": re.compile(r"\"(access|refresh|id)_token\": *\"(?!REDACTED)[^\"]{12,}\""),
    "loopback port": re.compile(r"127\.0\.0\.1:\d{2,5}"),
    # a service-account key (Google) or any other PEM private key
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\"private_key\": *\"(?!REDACTED)[^\"]{12,}\""),
}


@dataclass
class HostMap:
    """Real value -> placeholder, applied to everything a cassette stores."""

    replacements: dict[str, str] = field(default_factory=dict)

    def add(self, real: str, placeholder: str) -> None:
        if real and real != placeholder:
            self.replacements[real.rstrip("/")] = placeholder.rstrip("/")

    def clear(self) -> None:
        self.replacements.clear()

    def apply(self, text: str) -> str:
        # longest first, so a base URL is replaced before a prefix of it
        for real in sorted(self.replacements, key=len, reverse=True):
            text = text.replace(real, self.replacements[real])
        return text


#: the map the vcr hooks use; reset before each test by the ``host_map`` fixture
HOSTS = HostMap()


def _scrub_text(text: str) -> str:
    text = HOSTS.apply(text)
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.dumps(_scrub_json(json.loads(stripped)), ensure_ascii=False)
        except ValueError:
            pass
    if "=" in text and "&" in text or any(text.startswith(f"{f}=") for f in SECRET_FIELDS):
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            return text
        return urlencode([(k, REDACTED if k in SECRET_FIELDS else HOSTS.apply(v)) for k, v in pairs])
    return text


def _scrub_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_FIELDS and v not in (None, "") else _scrub_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    if isinstance(value, str):
        return HOSTS.apply(value)
    return value


def _body_text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return str(body)


def scrub_request(request: Any) -> Any:
    """vcrpy ``before_record_request``: placeholders for hosts, secrets redacted."""
    request.uri = HOSTS.apply(request.uri)
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = REDACTED
    text = _body_text(request.body)
    if text is not None:
        request.body = _scrub_text(text).encode("utf-8")
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy ``before_record_response``: the same rules for what came back."""
    headers = response.get("headers", {})
    for name in list(headers):
        lower = name.lower()
        if lower in SECRET_HEADERS:
            del headers[name]
        elif lower in ("location", "content-location", "odata-nextlink"):
            headers[name] = [HOSTS.apply(v) for v in headers[name]]
    body = response.get("body", {})
    text = _body_text(body.get("string"))
    if text:
        scrubbed = _scrub_text(text).encode("utf-8")
        body["string"] = scrubbed
        for name in list(headers):
            if name.lower() == "content-length":
                headers[name] = [str(len(scrubbed))]
    return response


def vcr_settings() -> dict[str, Any]:
    """What ``vcr_config`` returns for every cassette test."""
    return {
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
        # body too: each pascom write, and each token request, replays its own answer
        "match_on": ["method", "scheme", "host", "port", "path", "query", "body"],
    }


def find_leaks(text: str, secrets: tuple[str, ...] = ()) -> list[str]:
    """Every kind of leak found in ``text`` (empty when clean)."""
    found = [name for name, pattern in LEAK_PATTERNS.items() if pattern.search(text)]
    found += [f"known secret {s[:3]}…" for s in secrets if s and s in text]
    return found


def is_recording(config: Any) -> bool:
    """True when pytest runs with a ``--record-mode`` that writes cassettes."""
    return (config.getoption("--record-mode", default="none") or "none") != "none"
