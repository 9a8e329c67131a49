"""Helpers of the LDAP tests: what is installed, test data, and writing to the real slapd.

python-ldap is imported lazily (:func:`python_ldap`): these modules must import on a
machine without it, so the tests can say why they skip.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

import pytest

from syncframe_ldap import slapd

DATA = Path(__file__).parent / "data"
PEOPLE = f"ou=people,{slapd.OPENLDAP_SUFFIX}"
GROUPS = f"ou=groups,{slapd.OPENLDAP_SUFFIX}"
BULK = f"ou=bulk,{slapd.OPENLDAP_SUFFIX}"
BULK_USERS = 2000
ADMIN_DN = f"cn=admin,{slapd.OPENLDAP_SUFFIX}"
PASSWORD_ENV = "SYNCFRAME_TEST_LDAP_PASSWORD"

#: the fixed entryUUIDs of tests/ldap/data/openldap.ldif
JDOE = "10000000-0000-4000-8000-000000000001"
ZOE = "10000000-0000-4000-8000-000000000002"
LOCKED = "10000000-0000-4000-8000-000000000003"
JUERGEN = "10000000-0000-4000-8000-000000000004"
ALICE = "10000000-0000-4000-8000-000000000005"
BOB = "10000000-0000-4000-8000-000000000006"
CAROL = "10000000-0000-4000-8000-000000000007"
DAVE = "10000000-0000-4000-8000-000000000008"


def missing() -> str | None:
    """Why the LDAP tests cannot run here (python-ldap or slapd missing), or None."""
    try:
        import ldap.ldapobject  # noqa: F401 - a bare "import ldap" would also find tests/ldap
    except ImportError:
        return "python-ldap is not installed (pip install -e '.[ldap]'; it needs libldap2-dev libsasl2-dev)"
    return slapd.available()


def require() -> None:
    """Skip with the reason, except under ``CI=true``, where a missing part is a failure."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run installs slapd and python-ldap, so the LDAP tests must run)")
    pytest.skip(reason)


def python_ldap() -> Any:
    require()
    import ldap
    import ldap.modlist  # noqa: F401

    return ldap


def bulk_ldif(count: int = BULK_USERS, ou: str = BULK) -> str:
    """``count`` plain users under ``ou`` (the organizational unit itself first)."""
    name = ou.split(",", 1)[0].split("=", 1)[1]
    rows = [f"dn: {ou}\nobjectClass: organizationalUnit\nou: {name}\n"]
    for n in range(count):
        rows.append(
            f"dn: uid=user{n:05d},{ou}\nobjectClass: inetOrgPerson\nuid: user{n:05d}\ncn: User {n}\nsn: {n}\n"
            f"givenName: User\nmail: user{n:05d}@example.org\ntelephoneNumber: +49 30 {n:07d}\n"
        )
    return "\n".join(rows)


def directory_data() -> dict[str, str]:
    """Suffix -> the LDIF the shared test server starts with."""
    return {
        slapd.OPENLDAP_SUFFIX: (DATA / "openldap.ldif").read_text(encoding="utf-8") + "\n" + bulk_ldif(),
        slapd.AD_SUFFIX: (DATA / "ad.ldif").read_text(encoding="utf-8"),
    }


def section(server: slapd.ThrowawaySlapd, **overrides: Any) -> dict[str, Any]:
    """An LDAP ``[source]`` section for ``server`` (ldaps, the service account); None removes a key."""
    values: dict[str, Any] = {
        "url": server.ldaps_url,
        "ca_bundle": server.ca_bundle,
        "bind_dn": slapd.SERVICE_DN,
        "bind_password_env": PASSWORD_ENV,
        "base_dn": PEOPLE,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def admin(server: slapd.ThrowawaySlapd, suffix: str = slapd.OPENLDAP_SUFFIX) -> Any:
    """A python-ldap connection bound as the database's root DN."""
    ldap = python_ldap()
    conn = ldap.initialize(server.url)
    conn.simple_bind_s(f"cn=admin,{suffix}", slapd.ROOT_PASSWORD)
    return conn


def person(uid: str, given: str, surname: str, ou: str, **attrs: Any) -> tuple[str, dict[str, list[bytes]]]:
    """An inetOrgPerson entry (values as text or lists of text)."""
    entry: dict[str, Any] = {
        "objectClass": ["inetOrgPerson"],
        "uid": [uid],
        "cn": [f"{given} {surname}"],
        "givenName": [given],
        "sn": [surname],
        "mail": [f"{uid}@example.org"],
    }
    for name, value in attrs.items():
        entry[name] = value if isinstance(value, list) else [value]
    return f"uid={uid},{ou}", {k: [v.encode("utf-8") for v in vs] for k, vs in entry.items()}


def add_ou(conn: Any, ou: str, entries: Iterable[tuple[str, dict[str, list[bytes]]]] = ()) -> None:
    """Create the organizational unit ``ou`` (a DN) and ``entries`` under it."""
    name = ou.split(",", 1)[0].split("=", 1)[1]
    conn.add_s(ou, [("objectClass", [b"organizationalUnit"]), ("ou", [name.encode()])])
    for dn, attrs in entries:
        conn.add_s(dn, list(attrs.items()))


def entry_uuid(conn: Any, dn: str) -> str:
    ldap = python_ldap()
    [(_, attrs)] = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["entryUUID"])
    return attrs["entryUUID"][0].decode()
