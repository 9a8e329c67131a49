"""Fixtures of the LDAP tests: a real slapd (Debian's) per test worker, and sources pointed at it.

The shared server holds ``tests/ldap/data/*.ldif`` and 2,000 generated users; tests
that change the directory work in an organizational unit of their own. Tests skip
with the reason where slapd or python-ldap is missing, and fail instead under
``CI=true``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from syncframe import ConnectorContext
from syncframe_ldap import slapd
from syncframe_ldap.schema import LdapSchema

import ldap_support
from ldap_support import PASSWORD_ENV, directory_data, require, section


@pytest.fixture(scope="session")
def directory() -> Iterator[slapd.ThrowawaySlapd]:
    """The shared throwaway slapd (one per xdist worker)."""
    require()
    server = slapd.ThrowawaySlapd(data=directory_data())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def bind_password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, slapd.SERVICE_PASSWORD)
    return slapd.SERVICE_PASSWORD


@pytest.fixture
def make_source(directory: slapd.ThrowawaySlapd, bind_password: str) -> Iterator[Callable[..., Any]]:
    """Build an LDAP source for the shared server; keyword arguments override [source] keys
    (None removes one), ``server=`` points it at another slapd."""
    from syncframe_ldap.source import LdapSource

    opened: list[LdapSource] = []

    def make(server: slapd.ThrowawaySlapd | None = None, **overrides: Any) -> LdapSource:
        config = LdapSchema().load(section(server or directory, **overrides))
        source = LdapSource(config, ConnectorContext(name="directory", profile={}))
        opened.append(source)
        return source

    yield make
    for source in opened:
        source.close()


@pytest.fixture
def admin(directory: slapd.ThrowawaySlapd) -> Iterator[Any]:
    """The shared server's OpenLDAP database, bound as its root DN."""
    conn = ldap_support.admin(directory)
    yield conn
    conn.unbind_s()


@pytest.fixture
def own_ou(admin: Any, request: pytest.FixtureRequest) -> str:
    """An empty organizational unit for this test only (the shared server outlives it)."""
    ou = f"ou={request.node.name.replace('[', '-').replace(']', '')},{slapd.OPENLDAP_SUFFIX}"
    ldap_support.add_ou(admin, ou)
    return ou
