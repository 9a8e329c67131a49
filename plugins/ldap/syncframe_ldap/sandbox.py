"""``SlapdSandbox``: a throwaway slapd as a :class:`syncframe.SourceSandbox`.

``syncframe sandbox --source LDAP`` and the tests seed users through
:meth:`SlapdSandbox.put_identity` and point an LDAP connector at
:meth:`SlapdSandbox.profile_section`; the bind password travels through the
environment variable the section names. Each identity becomes an inetOrgPerson
under ``ou=people`` whose entryUUID *is* the identity's ``source_id`` (the root DN
may set it with the Relax Rules control), so reads give back the ids seeded.
Needs slapd (Debian's ``slapd`` package) and python-ldap.
"""

from __future__ import annotations

import uuid
from typing import Any, Sequence

from syncframe import ConfigError, Identity, SourceSandbox

from . import slapd

PASSWORD_ENV = "SYNCFRAME_SANDBOX_LDAP_PASSWORD"
PEOPLE = f"ou=people,{slapd.OPENLDAP_SUFFIX}"
GROUPS = f"ou=groups,{slapd.OPENLDAP_SUFFIX}"
#: lets the root DN write the operational entryUUID
RELAX_RULES = "1.3.6.1.4.1.4203.666.5.12"
#: ppolicy's "locked for good"
LOCKED = "000001010000Z"

TREE = f"""\
dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups
"""


def group_dn(name: str) -> str:
    from ldap.dn import escape_dn_chars

    return f"cn={escape_dn_chars(name)},{GROUPS}"


def entry_of(identity: Identity) -> dict[str, list[bytes]]:
    """The inetOrgPerson attributes of an identity (everything but its DN and entryUUID)."""
    name = identity.display_name or identity.username
    values: dict[str, list[str]] = {
        "objectClass": ["inetOrgPerson"],
        "employeeNumber": [identity.source_id],
        "uid": [identity.username],
        "cn": [name],
        "sn": [identity.surname or name],
        "displayName": [name],
        "givenName": [identity.given_name] if identity.given_name else [],
        # mail is IA5 (ASCII) in the schema
        "mail": [identity.email] if identity.email and identity.email.isascii() else [],
        "telephoneNumber": list(identity.phones),
        "mobile": [identity.mobile_phone] if identity.mobile_phone else [],
        "title": [identity.job_title] if identity.job_title else [],
        "departmentNumber": [identity.department] if identity.department else [],
        "preferredLanguage": [identity.preferred_language] if identity.preferred_language else [],
        "pwdAccountLockedTime": [] if identity.enabled else [LOCKED],
    }
    return {key: [v.encode("utf-8") for v in vs] for key, vs in values.items()}


class SlapdSandbox(SourceSandbox):
    """An OpenLDAP directory on loopback for an LDAP connector.

    :param groups: Group names; when given, ``profile_section()`` scopes to them.
    """

    def __init__(self, groups: Sequence[str] | None = None):
        self.server = slapd.ThrowawaySlapd(data={slapd.OPENLDAP_SUFFIX: TREE})
        self.groups = list(groups) if groups is not None else None
        self._conn: Any = None
        self.writes = 0

    def start(self) -> None:
        from .source import require_python_ldap

        require_python_ldap()
        missing = slapd.available()
        if missing:
            raise ConfigError(f"the LDAP sandbox needs slapd: {missing}")
        import ldap

        self.server.start()
        self._conn = ldap.initialize(self.server.url)
        self._conn.simple_bind_s(f"cn=admin,{slapd.OPENLDAP_SUFFIX}", slapd.ROOT_PASSWORD)
        for name in self.groups or ():
            self._add_group(name)

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.unbind_s()
            self._conn = None
        self.server.stop()

    def profile_section(self) -> dict[str, Any]:
        section: dict[str, Any] = {
            "url": self.server.ldaps_url,
            "ca_bundle": self.server.ca_bundle,
            "bind_dn": slapd.SERVICE_DN,
            "bind_password_env": PASSWORD_ENV,
            "base_dn": PEOPLE,
        }
        if self.groups is not None:
            section["groups"] = [group_dn(g) for g in self.groups]
        return section

    def environment(self) -> dict[str, str]:
        return {PASSWORD_ENV: slapd.SERVICE_PASSWORD}

    # -- users --------------------------------------------------------------------------

    def _dn(self, source_id: str) -> str:
        from ldap.dn import escape_dn_chars

        return f"employeeNumber={escape_dn_chars(source_id)},{PEOPLE}"

    def _current(self, dn: str) -> dict[str, list[bytes]] | None:
        import ldap

        try:
            [(_, attrs)] = self._conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["*"])
        except ldap.NO_SUCH_OBJECT:
            return None
        return attrs

    def put_identity(self, identity: Identity) -> None:
        """Create or replace the user ``identity.source_id`` and its group memberships."""
        import ldap
        from ldap.controls import RequestControl

        dn = self._dn(identity.source_id)
        wanted = entry_of(identity)
        current = self._current(dn)
        if current is None:
            attrs = [(k, v) for k, v in wanted.items() if v]
            controls = []
            if _is_uuid(identity.source_id):
                attrs.append(("entryUUID", [identity.source_id.lower().encode()]))
                controls.append(RequestControl(RELAX_RULES, True))
            self._conn.add_ext_s(dn, attrs, serverctrls=controls)
        else:
            present = {k.lower() for k in current}
            changes = [(ldap.MOD_REPLACE, k, v) for k, v in wanted.items() if v and k != "objectClass"]
            changes += [(ldap.MOD_DELETE, k, None) for k, v in wanted.items() if not v and k.lower() in present]
            self._conn.modify_s(dn, changes)
        self.writes += 1
        self._memberships(dn, set(identity.groups))

    def remove_identity(self, source_id: str) -> None:
        """Delete a user (content sync reports it by entryUUID)."""
        dn = self._dn(source_id)
        self._memberships(dn, set())
        self._conn.delete_s(dn)
        self.writes += 1

    def _memberships(self, dn: str, wanted: set[str]) -> None:
        """Put ``dn`` into exactly the groups ``wanted``."""
        import ldap

        found = self._conn.search_s(GROUPS, ldap.SCOPE_ONELEVEL, "(objectClass=groupOfNames)", ["cn", "member"])
        have = {attrs["cn"][0].decode(): {m.decode().lower() for m in attrs.get("member", [])} for _, attrs in found}
        for name, members in have.items():
            if name not in wanted and dn.lower() in members:
                self._conn.modify_s(group_dn(name), [(ldap.MOD_DELETE, "member", [dn.encode()])])
        for name in wanted:
            if name not in have:
                self._add_group(name, dn)
            elif dn.lower() not in have[name]:
                self._conn.modify_s(group_dn(name), [(ldap.MOD_ADD, "member", [dn.encode()])])

    def _add_group(self, name: str, *members: str) -> None:
        # groupOfNames must have a member: the group itself stands in, so a group can be
        # empty of users (the source's walk sees it as a cycle and moves on)
        own = group_dn(name)
        values = [own.encode(), *(m.encode() for m in members)]
        self._conn.add_s(own, [("objectClass", [b"groupOfNames"]), ("cn", [name.encode()]), ("member", values)])

    def stats(self) -> dict[str, Any]:
        # slapd counts no requests for us; the writes the sandbox made stand in
        return {"writes": self.writes}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
