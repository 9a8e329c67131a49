"""The records one simulated pascom instance holds: users, their devices and sessions.

Each :class:`User` caches its JSON so listing 100,000 users after one write
re-serialises one user, not all of them (see :meth:`User.wire_bytes`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SOFTPHONE = "softphone"
MOBILE = "mobile"
DEVICE_TYPES = (SOFTPHONE, MOBILE)
DESKTOP = "desktop"

_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one encoder: json.dumps(**kw) builds one per call


def softphone_name(display_name: str) -> str:
    """pascom names every softphone it creates after the user (D)."""
    return f"pascom Softphone [{display_name}]"


def mobile_name(display_name: str) -> str:
    """Default name of a mobile device when the request gives none (A)."""
    return f"pascom Mobile [{display_name}]"


@dataclass
class Device:
    """A softphone or a mobile (app) device assigned to a user."""

    id: int
    name: str
    type: str
    paired: bool = False
    #: the mobile number given at creation (mobile devices only; not on the wire)
    number: str | None = None

    def wire(self) -> dict[str, Any]:
        """The read-only ``devices`` entry (A): exactly these four keys."""
        return {"010dev_id": self.id, "010dev_bez": self.name, "type": self.type, "paired": self.paired}


@dataclass
class Session:
    """A signed-in client: the desktop app on a softphone, or the mobile app."""

    id: int
    device_id: int
    kind: str  # desktop | mobile


@dataclass
class User:
    """One identity (user) with the internal field values pascom stores."""

    id: int
    login: str
    display_name: str
    auth_method: str = "mobydick"
    enabled: bool = True
    email: str | None = None
    extension: str = ""
    pin: str | None = None
    password: str | None = None
    roles: list[str] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    phonebook: list[dict[str, Any]] = field(default_factory=list)
    _wire: bytes | None = field(default=None, repr=False, compare=False)

    def touch(self) -> None:
        """Forget the cached JSON after a change."""
        self._wire = None

    def wire(self) -> dict[str, Any]:
        """The identity object as ``GET identity/<login>`` answers it.

        ``phonebook`` (the user's phonebook entries, as written through
        ``post.phonebook`` or a PUT ``phonebook``) is assumed (A).
        """
        return {
            "003use_id": self.id,
            "003use_name": self.login,
            "003use_bez": self.display_name,
            "003use_auth_method": self.auth_method,
            "003use_enabled": self.enabled,
            "016voi_email": self.email,
            "009ext_extension": self.extension,
            "user_roles": list(self.roles),
            "devices": [d.wire() for d in self.devices],
            "phonebook": [dict(entry) for entry in self.phonebook],
        }

    def wire_bytes(self) -> bytes:
        if self._wire is None:
            self._wire = _ENCODER.encode(self.wire()).encode()
        return self._wire

    def device(self, device_id: int) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def session_wire(self) -> list[dict[str, Any]]:
        """``GET identity/<login>/sessions`` (A): ``device`` is the device's ``010dev_id``."""
        out = []
        for s in self.sessions:
            dev = self.device(s.device_id)
            out.append({"id": s.id, "device": s.device_id, "kind": s.kind, "paired": bool(dev and dev.paired)})
        return out

    def unpair_mobile(self) -> None:
        """Remove the mobile pairing: mobile devices unpaired, mobile sessions ended."""
        for d in self.devices:
            if d.type == MOBILE:
                d.paired = False
        self.sessions = [s for s in self.sessions if s.kind != MOBILE]
        self.touch()
