"""Identity -> the pascom fields syncframe wants (the vocabulary of ``wire``).

Rules:

- ``login``: the username (the UPN) in lower case (single sign-on needs login = UPN);
  a login outside pascom's rule, or a display name over 100 characters, is skipped;
- ``auth``: ``SSO``; no password is ever sent;
- ``display_name``: the directory's display name, else "given surname", else the UPN;
- ``email``: ``mail``, else the username when it is an address (a UPN), else none
  (pascom refuses an e-mail that is not ``name@domain``, such as a ``jdoe`` login);
- ``enabled``: whether the directory account is enabled;
- phonebook: ``first_name``, ``last_name``, ``business_phone`` (the first one),
  ``mobile_phone``;
- ``extension``: only with a source attribute policy (``auto`` leaves it out, so
  existing extensions are kept and new users get the next free number);
- ``roles``: only when the profile names roles (static ``roles`` plus the roles of
  the user's groups via ``group_roles``); then the user holds exactly those;
- ``devices``: the kinds the profile creates (``create_softphone``, ``create_mobile``):
  a user lacking one gets it, whatever kind of item it is.

:func:`differences` compares desired with an account: a field pascom's answer did not
carry is not compared, more devices than syncframe creates are the administrator's
business, and a mobile device syncframe made twice (``wire.spare_devices``) is a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from syncframe import Identity, Notice, SkippableRecordError

from . import wire
from .wire import AUTH_SSO

#: the follow-up pascom needs after a rename: the mobile app signs in with the old login
REPAIR_MOBILE = Notice("repair_mobile", "must pair the mobile app again")

#: ASCII digits only: ``\D`` would keep other scripts' digits, which no dial plan accepts
_NOT_DIGITS = re.compile(r"[^0-9]")


@dataclass(frozen=True)
class MappingRules:
    """The mapping part of the ``[target]`` settings."""

    extension: str = "auto"
    extension_digits: int | None = None
    roles: tuple[str, ...] = ()
    group_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    devices: tuple[str, ...] = (wire.MOBILE, wire.SOFTPHONE)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "MappingRules":
        wanted = ((config.get("create_softphone", True), wire.SOFTPHONE), (config.get("create_mobile", True), wire.MOBILE))
        return cls(
            extension=config.get("extension", "auto"),
            extension_digits=config.get("extension_digits"),
            roles=tuple(config.get("roles") or ()),
            # group names compare case-insensitively (directories differ in case)
            group_roles={k.casefold(): tuple(v) for k, v in (config.get("group_roles") or {}).items()},
            devices=tuple(sorted(kind for on, kind in wanted if on)),
        )

    @property
    def manages_roles(self) -> bool:
        return bool(self.roles or self.group_roles)


def login_for(identity: Identity) -> str:
    """The pascom login of an identity: its UPN, lower case."""
    return identity.username.strip().lower()


def display_name_for(identity: Identity) -> str:
    if identity.display_name and identity.display_name.strip():
        return identity.display_name.strip()
    joined = " ".join(p.strip() for p in (identity.given_name, identity.surname) if p and p.strip())
    return joined or identity.username


def extension_for(identity: Identity, rules: MappingRules) -> str | None:
    """The extension a source attribute gives, or None to let pascom choose (``auto``).

    The attribute's digits (formatting and a leading ``+`` dropped), last
    ``extension_digits`` of them; too few digits gives None.
    """
    if rules.extension == "auto" or not rules.extension_digits:
        return None
    raw = _attribute(identity, rules.extension)
    if not raw:
        return None
    digits = _NOT_DIGITS.sub("", str(raw))
    if len(digits) < rules.extension_digits:
        return None
    return digits[-rules.extension_digits:]


def _attribute(identity: Identity, name: str) -> Any:
    if name == "business_phone":
        return identity.phones[0] if identity.phones else None
    if name == "mobile_phone":
        return identity.mobile_phone
    if name.startswith("extra."):
        return identity.extra.get(name[len("extra."):])
    return None


def roles_for(identity: Identity, rules: MappingRules) -> list[str]:
    """Static roles plus the roles of the identity's groups, sorted, without duplicates."""
    roles = set(rules.roles)
    for group in identity.groups:
        roles.update(rules.group_roles.get(group.casefold(), ()))
    return sorted(roles)


def desired_fields(identity: Identity, rules: MappingRules) -> dict[str, Any]:
    """What the pascom user of ``identity`` should look like.

    :raises SkippableRecordError: when pascom cannot hold the login or the display name.
    """
    login = login_for(identity)
    problem = wire.login_problem(login)
    if problem:
        raise SkippableRecordError(problem)
    display_name = display_name_for(identity)
    if len(display_name) > wire.MAX_DISPLAY_NAME:
        raise SkippableRecordError(f"the display name is longer than pascom's {wire.MAX_DISPLAY_NAME} characters ({len(display_name)})")
    desired: dict[str, Any] = {
        "login": login,
        "display_name": display_name,
        "email": identity.email or (identity.username if "@" in identity.username else None),
        "auth": AUTH_SSO,
        "enabled": bool(identity.enabled),
        "first_name": identity.given_name or None,
        "last_name": identity.surname or None,
        "business_phone": identity.phones[0] if identity.phones else None,
        "mobile_phone": identity.mobile_phone or None,
    }
    extension = extension_for(identity, rules)
    if extension is not None:
        desired["extension"] = extension
    if rules.manages_roles:
        desired["roles"] = roles_for(identity, rules)
    if rules.devices:
        desired["devices"] = list(rules.devices)
    return desired


def differences(fields: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field -> [current, desired] for what an item must change (``login`` excluded)."""
    changes: dict[str, list[Any]] = {}
    for key, want in desired.items():
        if key == "login" or key not in fields:
            continue  # pascom's answer did not carry it: unknown, so never "corrected" run after run
        have = fields[key]
        if key == "devices":
            lacking = set(want) - set(have)
            spares = len(have) != len(set(have))
            if not lacking and not spares:
                continue
        elif have == want:
            continue
        changes[key] = [have, want]
    return changes
